namespace Loom;

/// <summary>
/// The degree of intra-op parallelism: how many threads a kernel (GEMM, convolution, large element-wise ops) may use.
/// Defaults to the number of processors; set it to 1 for single-threaded runs.
/// </summary>
public static class Threads
{
    private static int _count = Environment.ProcessorCount;

    public static int Count
    {
        get => _count;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "Threads.Count must be at least 1");
            _count = value;
        }
    }
}
