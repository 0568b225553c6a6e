using Loom.Kernels;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// "sgemm": square single-precision GEMM, C = A·B, median GFLOP/s per size and thread count, as a fraction of the
/// measured FMA peak and (with --peers) as a ratio to OpenBLAS measured in the same run.
/// Set LOOM_GEMM_SWEEP=1 to also sweep the cache-block sizes (<see cref="Gemm.SgemmBlocking"/>; how the defaults were chosen).
/// </summary>
public sealed class GemmBench : IBenchmark
{
    public string Suite => "kernels";
    public string Name => "sgemm";

    public void Run(BenchReport report, BenchOptions options)
    {
        int[] sizes = options.Quick ? [256, 1024] : [128, 256, 512, 1024, 2048];
        var limits = MachineLimits.Measure();

        // With --peers, OpenBLAS runs each size just before Loom does: on a shared machine the load drifts within
        // a run, and a ratio of two measurements seconds apart is far steadier than one of minutes apart.
        string? peerError = null;
        foreach (int n in sizes)
        {
            Dictionary<(int N, int Threads), double>? peer = null;
            if (options.Peers && peerError is null)
            {
                var (figures, description, error) = Peers.OpenBlasSgemm([n]);
                if (error is not null) report.Add(Name, "openblas peer", ("skipped", peerError = error));
                else if (n == sizes[0]) report.Add(Name, "openblas peer", ("blas", description));
                peer = figures;
            }
            foreach (int threads in options.ThreadCounts)
            {
                Threads.Count = threads;
                double gflops = Measure(n, options.Quick);
                var metrics = new List<(string, object)> { ("gflops", gflops), ("of_peak", gflops / limits.FmaPeak(threads)) };
                if (peer is not null && peer.TryGetValue((n, threads), out var blas))
                {
                    metrics.Add(("openblas_gflops", blas));
                    metrics.Add(("vs_openblas", gflops / blas));
                }
                report.Add(Name, $"n={n} threads={threads} {Gemm.ActivePath}", [.. metrics]);
            }
        }

        if (Environment.GetEnvironmentVariable("LOOM_GEMM_SWEEP") == "1") Sweep(report, options);
    }

    /// <summary>Median GFLOP/s of an n×n×n SGEMM at the current <see cref="Threads.Count"/>.</summary>
    private static double Measure(int n, bool quick)
    {
        var generator = new Generator(42);
        var a = Tensor.Randn(new Shape(n, n), generator).ToArray<float>();
        var b = Tensor.Randn(new Shape(n, n), generator).ToArray<float>();
        var c = new float[n * n];
        var (median, _, _) = Timing.Measure(
            () => Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n),
            warmup: 3, minIterations: 5, budgetSeconds: quick ? 0.3 : 1.0);
        return 2.0 * n * n * n / median / 1e9;
    }

    /// <summary>Sweeps KC and NC of the float kernel of the active path at n = 1024 and 2048.</summary>
    private void Sweep(BenchReport report, BenchOptions options)
    {
        var saved = Gemm.SgemmBlocking;
        try
        {
            foreach (int threads in options.ThreadCounts)
            {
                Threads.Count = threads;
                foreach (int kc in new[] { 192, 256, 320, 384, 480, 512 })
                    foreach (int nc in new[] { 256, 384, 512, 768, 1024 })
                    {
                        Gemm.SgemmBlocking = (kc, nc);
                        report.Add(Name, $"sweep {Gemm.ActivePath} kc={kc} nc={nc} threads={threads}",
                            ("gflops_1024", Measure(1024, true)), ("gflops_2048", Measure(2048, true)));
                    }
            }
        }
        finally
        {
            Gemm.SgemmBlocking = saved;
        }
    }
}
