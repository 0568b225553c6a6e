using System.Numerics;

namespace Loom.Memory;

/// <summary>
/// Size-bucketed pool of arrays for tensor storage. A training step allocates the same shapes every step; renting
/// from power-of-two buckets lets the arrays of step N serve step N+1, so the GC (and the large-object heap) stays out
/// of the hot loop. Arrays shorter than <see cref="MinPooledLength"/> are plain allocations: the GC handles small
/// objects cheaply and pooling them would cost more than it saves.
/// </summary>
public static class BufferPool<T> where T : unmanaged
{
    /// <summary>Arrays this short are not pooled.</summary>
    public const int MinPooledLength = 1024;

    private const int MaxPerBucket = 64;
    private static readonly Stack<T[]>[] Buckets = CreateBuckets();

    private static Stack<T[]>[] CreateBuckets()
    {
        var buckets = new Stack<T[]>[32];
        for (int i = 0; i < buckets.Length; i++) buckets[i] = new Stack<T[]>();
        return buckets;
    }

    private static int BucketOf(int length) => BitOperations.Log2((uint)length - 1) + 1; // ceil(log2(length))

    /// <summary>An array of at least <paramref name="length"/> elements; <paramref name="fromPool"/> says whether it was reused (and so holds stale data).</summary>
    public static T[] Rent(int length, out bool fromPool)
    {
        fromPool = false;
        if (length < MinPooledLength) return length == 0 ? [] : new T[length];
        int bucket = BucketOf(length);
        var stack = Buckets[bucket];
        lock (stack)
        {
            if (stack.TryPop(out var array))
            {
                fromPool = true;
                return array;
            }
        }
        return new T[1 << bucket]; // fresh arrays are zeroed, which Storage.Allocate relies on
    }

    /// <summary>Gives an array back. Arrays whose length is not a pool bucket size are dropped for the GC.</summary>
    public static void Return(T[] array)
    {
        if (array.Length < MinPooledLength || !BitOperations.IsPow2(array.Length)) return;
        var stack = Buckets[BucketOf(array.Length)];
        lock (stack)
        {
            if (stack.Count < MaxPerBucket) stack.Push(array);
        }
    }

    /// <summary>Drops every pooled array (for tests and for freeing memory after a run).</summary>
    public static void Clear()
    {
        foreach (var stack in Buckets)
            lock (stack) stack.Clear();
    }
}
