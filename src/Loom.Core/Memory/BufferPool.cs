namespace Loom.Memory;

/// <summary>
/// Size-bucketed pool of arrays for tensor storage. A training step allocates the same shapes every step; renting
/// from size classes lets the arrays of step N serve step N+1, so the GC (and the large-object heap) stays out of the
/// hot loop. Classes are powers of two up to <see cref="FineClassesAbove"/> elements and quarter steps between powers
/// of two above it (5/4, 6/4, 7/4 and 8/4 of the power below): a power-of-two array for GPT-2's 38.6 M-element
/// embedding gradient would be 64 M elements, 100 MiB of freshly zeroed, resident memory that nothing uses. Arrays shorter than <see cref="MinPooledLength"/> are plain allocations: the GC handles small
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
    /// <summary>Lengths above this (1 Mi elements) get quarter-step size classes instead of powers of two.</summary>
    public const int FineClassesAbove = 1 << 20;

    private static readonly int ElementSize = Unsafe.SizeOf<T>();
    private static readonly Stack<T[]>[] Buckets = CreateBuckets();

    private static Stack<T[]>[] CreateBuckets()
    {
        var buckets = new Stack<T[]>[4 * 33];
        for (int i = 0; i < buckets.Length; i++) buckets[i] = new Stack<T[]>();
        return buckets;
    }

    // Bucket 4·b holds arrays of 2^b elements; 4·e + q (q = 1, 2, 3) holds (4 + q)·2^(e−2), between 2^e and 2^(e+1).
    private static (int Bucket, int Size) ClassOf(int length)
    {
        int ceilLog2 = BitOperations.Log2((uint)length - 1) + 1;
        if (length <= FineClassesAbove) return (4 * ceilLog2, 1 << ceilLog2);
        int e = ceilLog2 - 1, quarter = 1 << (e - 2);
        int m = (int)(((long)length + quarter - 1) / quarter); // 5..8
        return m == 8 ? (4 * ceilLog2, (int)Math.Min(1L << ceilLog2, Array.MaxLength)) : (4 * e + m - 4, m * quarter);
    }

    /// <summary>The bucket of an array whose length is a class size, else −1.</summary>
    private static int BucketOfSize(int length)
    {
        if (BitOperations.IsPow2(length)) return 4 * BitOperations.Log2((uint)length);
        if (length <= FineClassesAbove) return -1;
        int e = BitOperations.Log2((uint)length), quarter = 1 << (e - 2);
        return length % quarter == 0 ? 4 * e + length / quarter - 4 : -1;
    }

    /// <summary>An array of at least <paramref name="length"/> elements; <paramref name="fromPool"/> says whether it was reused (and so holds stale data).</summary>
    public static T[] Rent(int length, out bool fromPool)
    {
        fromPool = false;
        if (length < MinPooledLength) return length == 0 ? [] : new T[length];
        var (bucket, size) = ClassOf(length);
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
        return new T[size]; // fresh arrays are zeroed, which Storage.Allocate relies on
    }

    /// <summary>
    /// Gives an array back. Arrays whose length is not a pool bucket size, and arrays that would take the pool past
    /// <see cref="BufferPoolBudget.MaxBytes"/>, are dropped for the GC.
    /// </summary>
    public static void Return(T[] array)
    {
        if (array.Length < MinPooledLength) return;
        int bucket = BucketOfSize(array.Length);
        if (bucket < 0) return;
        long bytes = (long)array.Length * ElementSize;
        if (!BufferPoolBudget.TryReserve(bytes)) return;
        var stack = Buckets[bucket];
        lock (stack) stack.Push(array);
    }

    /// <summary>Arrays of at least <paramref name="length"/> elements (in <paramref name="length"/>'s bucket) waiting in the pool.</summary>
    public static int Pooled(int length)
    {
        if (length < MinPooledLength) return 0;
        var stack = Buckets[ClassOf(length).Bucket];
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
