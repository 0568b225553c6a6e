using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Memory;

/// <summary>
/// Size-bucketed pool of arrays for tensor storage. A training step allocates the same shapes every step; renting
/// from power-of-two buckets lets the arrays of step N serve step N+1, so the GC (and the large-object heap) stays out
/// of the hot loop. Arrays shorter than <see cref="MinPooledLength"/> are plain allocations: the GC handles small
/// objects cheaply and pooling them would cost more than it saves.
/// </summary>
/// <remarks>
/// The pool keeps every array it is given back, up to <see cref="BufferPoolBudget.MaxBytes"/> in all (shared by the
/// element types), rather than a fixed number per bucket: a step holds all its activations at once, so the pool must
/// keep as many arrays of one size as the step's peak demand (a 4-layer GPT holds over a hundred [B, T, C] tensors),
/// and a cap below that makes every step allocate the excess anew on the large-object heap.
/// </remarks>
public static class BufferPool<T> where T : unmanaged
{
    /// <summary>Arrays this short are not pooled.</summary>
    public const int MinPooledLength = 1024;

    private static readonly int ElementSize = Unsafe.SizeOf<T>();
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
                BufferPoolBudget.Release((long)array.Length * ElementSize);
                fromPool = true;
                return array;
            }
        }
        return new T[1 << bucket]; // fresh arrays are zeroed, which Storage.Allocate relies on
    }

    /// <summary>
    /// Gives an array back. Arrays whose length is not a pool bucket size, and arrays that would take the pool past
    /// <see cref="BufferPoolBudget.MaxBytes"/>, are dropped for the GC.
    /// </summary>
    public static void Return(T[] array)
    {
        if (array.Length < MinPooledLength || !BitOperations.IsPow2(array.Length)) return;
        long bytes = (long)array.Length * ElementSize;
        if (!BufferPoolBudget.TryReserve(bytes)) return;
        var stack = Buckets[BucketOf(array.Length)];
        lock (stack) stack.Push(array);
    }

    /// <summary>Arrays of at least <paramref name="length"/> elements (in <paramref name="length"/>'s bucket) waiting in the pool.</summary>
    public static int Pooled(int length)
    {
        if (length < MinPooledLength) return 0;
        var stack = Buckets[BucketOf(length)];
        lock (stack) return stack.Count;
    }

    /// <summary>Drops every pooled array of this element type (for tests and for freeing memory after a run).</summary>
    public static void Clear()
    {
        foreach (var stack in Buckets)
        {
            lock (stack)
            {
                foreach (var array in stack) BufferPoolBudget.Release((long)array.Length * ElementSize);
                stack.Clear();
            }
        }
    }
}
