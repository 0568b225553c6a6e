using Loom.Kernels;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// "sgemm-shapes": the SGEMMs a GPT training step is made of — each linear layer's forward (x·Wᵀ), input gradient
/// (dy·W) and weight gradient (dyᵀ·x) — for the GPT 4L step of <c>bench train</c> (1024 rows, d 256) and GPT-2 124M
/// (256 rows, d 768), at every thread count asked for: GFLOP/s, fraction of the FMA peak measured in the same run, and
/// the speed-up over the first thread count, so that two-thread scaling can be read shape by shape. Select shapes with
/// --case (e.g. <c>--case "gpt4l"</c>, <c>--case "dW"</c>). With LOOM_GEMM_SWEEP=1 each product is also timed at every
/// cache-block size pair of a small grid (<see cref="Gemm.SgemmBlocking"/>), which is how KC and NC are checked for the
/// step's own shapes rather than square ones.
/// </summary>
public sealed class GemmShapesBench : IBenchmark
{
    public string Suite => "kernels";
    public string Name => "sgemm-shapes";

    /// <summary>One product C[m, n] = op(A)·op(B) with inner dimension k.</summary>
    private sealed record Product(string Name, bool TransA, bool TransB, int M, int N, int K);

    private static IEnumerable<Product> Products()
    {
        foreach (var (model, rows, layers) in new[]
        {
            ("gpt4l", 1024, new[] { ("qkv", 256, 768), ("proj", 256, 256), ("fc", 256, 1024), ("fc2", 1024, 256), ("logits", 256, 4096) }),
            ("gpt2", 256, new[] { ("qkv", 768, 2304), ("proj", 768, 768), ("fc", 768, 3072), ("fc2", 3072, 768), ("logits", 768, 50257) }),
        })
        {
            foreach (var (layer, inputs, outputs) in layers)
            {
                yield return new($"{model} {layer} fwd", false, true, rows, outputs, inputs);   // y = x·Wᵀ
                yield return new($"{model} {layer} dx", false, false, rows, inputs, outputs);   // dx = dy·W
                yield return new($"{model} {layer} dW", true, false, outputs, inputs, rows);    // dW = dyᵀ·x
            }
        }
    }

    public void Run(BenchReport report, BenchOptions options)
    {
        var limits = MachineLimits.Measure();
        foreach (var s in Products().Where(s => options.Includes(s.Name)))
        {
            var step = Step(s);
            double flops = 2.0 * s.M * s.N * s.K;
            double? first = null;
            foreach (int threads in options.ThreadCounts)
            {
                Threads.Count = threads;
                var t = Timing.Measure(step, warmup: 3, minIterations: 5, budgetSeconds: options.Quick ? 0.2 : 0.6);
                double gflops = flops / t.Median / 1e9, best = flops / t.Min / 1e9;
                double peak = limits.FmaPeak(threads);
                if (best > peak) peak = limits.RemeasureFmaPeak(threads);
                first ??= gflops;
                report.Add(Name, $"{s.Name} {(s.TransA ? 'T' : 'N')}{(s.TransB ? 'T' : 'N')} {s.M}x{s.N}x{s.K} threads={threads}",
                    ("gflops", gflops), ("best_gflops", best), ("of_peak", gflops / peak), ("peak_gflops", peak),
                    ("speedup", gflops / first.Value));
                if (Environment.GetEnvironmentVariable("LOOM_GEMM_SWEEP") == "1") Sweep(report, s, step, flops, threads, options);
            }
        }
    }

    private static readonly int[] SweptKc = [256, 384, 512], SweptNc = [256, 512, 768];

    /// <summary>The product at each (KC, NC) of the grid, the default restored after.</summary>
    private void Sweep(BenchReport report, Product s, Action step, double flops, int threads, BenchOptions options)
    {
        var saved = Gemm.SgemmBlocking;
        try
        {
            foreach (int kc in SweptKc)
                foreach (int nc in SweptNc)
                {
                    Gemm.SgemmBlocking = (kc, nc);
                    var t = Timing.Measure(step, warmup: 2, minIterations: 5, budgetSeconds: options.Quick ? 0.1 : 0.3);
                    report.Add(Name, $"sweep {s.Name} {s.M}x{s.N}x{s.K} kc={kc} nc={nc} threads={threads}",
                        ("gflops", flops / t.Median / 1e9), ("best_gflops", flops / t.Min / 1e9));
                }
        }
        finally
        {
            Gemm.SgemmBlocking = saved;
        }
    }

    /// <summary>One product on fixed random operands, stored as a linear layer stores them.</summary>
    private static Action Step(Product s)
    {
        var generator = new Generator(7);
        float[] Random(int rows, int cols) => Tensor.Randn(new Shape(rows, cols), generator).ToArray<float>();
        // op(A) is m×k: stored k×m when transposed. op(B) is k×n: stored n×k when transposed.
        var a = s.TransA ? Random(s.K, s.M) : Random(s.M, s.K);
        var b = s.TransB ? Random(s.N, s.K) : Random(s.K, s.N);
        var c = new float[(long)s.M * s.N];
        int lda = s.TransA ? s.M : s.K, ldb = s.TransB ? s.K : s.N;
        return () => Gemm.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, a, lda, b, ldb, 0f, c, s.N);
    }
}
