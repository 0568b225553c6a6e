using System.Text.Json.Nodes;
using Loom.Bench.Comparison;
using Loom.Kernels;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// "sgemm": square single-precision GEMM, C = A·B, median GFLOP/s per size and thread count, as a fraction of the
/// FMA peak measured in the same run at the same thread count and (with --peers) as a time ratio to OpenBLAS through
/// numpy, in rounds alternating with it.
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
        foreach (int n in sizes)
        {
            foreach (int threads in options.ThreadCounts)
            {
                Threads.Count = threads;
                var peer = report.Peers.Setup("numpy", "sgemm", threads, new JsonObject { ["n"] = n });
                var t = CaseTimer.Time(Step(n), peer, options, warmup: 3, minIterations: 5, budgetSeconds: options.Quick ? 0.3 : 1.0);
                double gflops = Flops(n) / t.MedianSeconds / 1e9;
                // Above the peak means the peak's probe ran while the machine was busier: probe again, keep the best.
                double peak = limits.FmaPeak(threads);
                if (gflops > peak) peak = limits.RemeasureFmaPeak(threads);
                var metrics = new List<(string, object)> { ("gflops", gflops), ("of_peak", gflops / peak), ("peak_gflops", peak) };
                metrics.AddRange(t.PeerMetrics());
                if (t.Comparison is not null) metrics.Add(("peer_gflops", Flops(n) / t.Comparison.PeerMedianSeconds / 1e9));
                report.Add(Name, $"n={n} threads={threads} {Gemm.ActivePath}", [.. metrics]);
            }
        }

        if (Environment.GetEnvironmentVariable("LOOM_GEMM_SWEEP") == "1") Sweep(report, options);
    }

    private static double Flops(int n) => 2.0 * n * n * n;

    /// <summary>Median GFLOP/s of an n×n×n SGEMM at the current <see cref="Threads.Count"/>.</summary>
    private static double Measure(int n, bool quick) =>
        Flops(n) / Timing.Measure(Step(n), warmup: 3, minIterations: 5, budgetSeconds: quick ? 0.3 : 1.0).Median / 1e9;

    /// <summary>One n×n×n SGEMM on fixed random operands.</summary>
    private static Action Step(int n)
    {
        var generator = new Generator(42);
        var a = Tensor.Randn(new Shape(n, n), generator).ToArray<float>();
        var b = Tensor.Randn(new Shape(n, n), generator).ToArray<float>();
        var c = new float[n * n];
        return () => Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
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
