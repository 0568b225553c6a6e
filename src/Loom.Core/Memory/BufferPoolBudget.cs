namespace Loom.Memory;

/// <summary>
/// The bound on the bytes that <see cref="BufferPool{T}"/> keeps across all element types. Within it the pool keeps
/// whatever a step gave back (its peak working set, which the next step needs again); past it, returned arrays go to
/// the GC. Lower it to trade allocation for memory, or call <see cref="BufferPool{T}.Clear"/> after a large one-off
/// computation.
/// </summary>
public static class BufferPoolBudget
{
    private static long _pooledBytes;
    private static long _maxBytes = DefaultMaxBytes();

    /// <summary>Most bytes the pool keeps; by default a quarter of the memory available to the GC.</summary>
    public static long MaxBytes
    {
        get => Interlocked.Read(ref _maxBytes);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Interlocked.Exchange(ref _maxBytes, value);
        }
    }

    /// <summary>Bytes held by pooled arrays right now.</summary>
    public static long PooledBytes => Interlocked.Read(ref _pooledBytes);

    private static long DefaultMaxBytes() => Math.Max(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4, 256L << 20);

    /// <summary>Counts <paramref name="bytes"/> as pooled unless that would pass <see cref="MaxBytes"/>.</summary>
    internal static bool TryReserve(long bytes)
    {
        long limit = MaxBytes;
        while (true)
        {
            long current = Interlocked.Read(ref _pooledBytes);
            if (current + bytes > limit) return false;
            if (Interlocked.CompareExchange(ref _pooledBytes, current + bytes, current) == current) return true;
        }
    }

    internal static void Release(long bytes) => Interlocked.Add(ref _pooledBytes, -bytes);
}
