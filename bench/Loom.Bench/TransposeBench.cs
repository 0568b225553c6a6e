using Loom.Memory;

namespace Loom.Bench;

/// <summary>
/// Contiguous() of a transposed float matrix (the cache-blocked path of StridedKernels.Gather), as GB/s of bytes read
/// plus written, beside a plain copy of the same matrix: the bandwidth a transpose can at best approach.
/// </summary>
public sealed class TransposeBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "transpose";

    public void Run(BenchReport report, BenchOptions options)
    {
        int n = options.Quick ? 4096 : 8192;
        Tensor x;
        using (MemoryScope.Persistent()) x = Tensor.Randn(new Shape(n, n), new Random.Generator(1));
        var transposed = x.Transpose(0, 1);
        double bytes = 2.0 * n * n * sizeof(float);
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var (name, source) in new[] { ("transpose", transposed), ("copy", x) })
            {
                var (median, min, iterations) = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    source.Clone();
                }, warmup: 5, minIterations: 5, budgetSeconds: options.Quick ? 0.5 : 1.5);
                report.Add(Name, $"{name} {n}x{n} t{threads}",
                    ("threads", threads), ("median_ms", median * 1e3), ("min_ms", min * 1e3), ("GB/s", bytes / median / 1e9), ("iterations", iterations));
            }
        }
    }
}
