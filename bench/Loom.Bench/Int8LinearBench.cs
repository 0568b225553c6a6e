using Loom.Autograd;
using Loom.Bench.Comparison;
using Loom.Compress;
using Loom.Kernels;
using Loom.Memory;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Dynamic int8 Linear (a <see cref="Linear"/> packed in place by <see cref="Quantization.QuantizeDynamic"/>, as a
/// quantised run's layers are: activation quantisation + int8 GEMM + dequantising epilogue) against Loom's float32
/// Linear on the same weights, forward under NoGrad, at batch 1 and 64, on the MLP's layers
/// and a transformer's projections, interleaved in rounds so that the speed-up (float time / int8 time) is measured
/// under the same load. Each int8 row also gives its G op/s as a fraction of the int8 peak of its path, probed in
/// the same run (<see cref="MachineLimits.Int8Peak"/>); where the CPU has AVX-VNNI the AVX-512BW path is measured too,
/// as the stand-in for machines without it (Zen 4). A kernel-only row (a large product, weights hot) shows how close
/// the int8 GEMM itself gets to that peak.
/// </summary>
public sealed class Int8LinearBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "int8";

    private sealed record Case(string Name, int In, int Out);

    private static readonly Case[] Cases =
    [
        new("mlp 784-512", 784, 512),
        new("mlp 512-512", 512, 512),
        new("transformer qkv 256-768", 256, 768),
        new("transformer fc 256-1024", 256, 1024),
        new("transformer 768-768", 768, 768),
    ];

    public void Run(BenchReport report, BenchOptions options)
    {
        var paths = new List<Int8GemmPath> { Int8Gemm.ActivePath };
        if (paths[0] == Int8GemmPath.AvxVnni && Int8Gemm.IsSupported(Int8GemmPath.Avx512BW)) paths.Add(Int8GemmPath.Avx512BW);
        var saved = Int8Gemm.ForcedPath;
        try
        {
            foreach (int threads in options.ThreadCounts)
            {
                Threads.Count = threads;
                foreach (var path in paths)
                {
                    Int8Gemm.ForcedPath = path;
                    double peak = path == Int8GemmPath.Scalar ? double.NaN : MachineLimits.Measure().Int8Peak(threads, path);
                    KernelRow(report, threads, path, peak, options.Quick);
                    foreach (var c in options.Quick ? Cases[..1] : Cases)
                        foreach (int batch in new[] { 1, 64 })
                            LinearRow(report, options, threads, path, peak, c, batch);
                }
            }
        }
        finally
        {
            Int8Gemm.ForcedPath = saved;
        }
    }

    private void LinearRow(BenchReport report, BenchOptions options, int threads, Int8GemmPath path, double peak, Case c, int batch)
    {
        var g = new Generator(1);
        var linear = new Linear(c.In, c.Out, generator: g);
        var quantized = new Linear(c.In, c.Out, generator: g);
        quantized.LoadStateDict(linear.StateDict());
        Quantization.QuantizeDynamic(quantized);
        var x = Tensor.Randn(new Shape(batch, c.In), g);
        Action int8 = () => { using var scope = new MemoryScope(); using var noGrad = new NoGrad(); quantized.Forward(x); };
        Action fp32 = () => { using var scope = new MemoryScope(); using var noGrad = new NoGrad(); linear.Forward(x); };
        var warmInt8 = Timing.Measure(int8, warmup: 5, minIterations: 5, budgetSeconds: 0.05);
        var warmFloat = Timing.Measure(fp32, warmup: 5, minIterations: 5, budgetSeconds: 0.05);
        var r = Interleaved.Run(n => Timing.Round(int8, n), warmInt8.Median, n => Timing.Round(fp32, n), warmFloat.Median, options.ComparisonSettings);
        double gops = 2.0 * batch * c.In * c.Out / r.LoomMedianSeconds / 1e9;
        long floatBytes = 4L * (c.In * c.Out + c.Out);
        report.Add(Name, $"{c.Name}, batch {batch}, {path} @{threads}t",
        [
            ("threads", threads), ("path", path.ToString()), ("batch", batch), ("int8_ms", r.LoomMedianSeconds * 1e3), ("float_ms", r.PeerMedianSeconds * 1e3),
            ("speedup", 1 / r.Ratio.Median), ("spread", r.Ratio.Spread), ("rounds", r.Ratio.Ratios.Count), ("unstable", r.Ratio.Unstable),
            ("int8_gops", gops), ("int8_peak_gops", peak), ("fraction_of_int8_peak", gops / peak),
            ("size_ratio", (double)floatBytes / Quantization.StateSizeInBytes(quantized)),
        ]);
    }

    /// <summary>The int8 GEMM alone on a product large enough to be compute-bound: how close the kernels get to the peak.</summary>
    private void KernelRow(BenchReport report, int threads, Int8GemmPath path, double peak, bool quick)
    {
        int m = quick ? 64 : 256, n = 1024, k = 1024;
        var random = new System.Random(1);
        var w = new sbyte[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)random.Next(-127, 128);
        var packed = new Int8PackedWeights(w, n, k, k);
        var a = new byte[m * k];
        for (int i = 0; i < a.Length; i++) a[i] = (byte)random.Next(0, 128);
        var scales = Enumerable.Repeat(0.01f, n).ToArray();
        var c = new float[m * n];
        var t = Timing.Measure(() => Int8Gemm.MultiplyDequantize(m, a, k, 0.02f, 60, packed, scales, [], c, n), warmup: 5, budgetSeconds: quick ? 0.1 : 0.5);
        double gops = 2.0 * m * n * k / t.Median / 1e9;
        report.Add(Name, $"gemm {m}x{n}x{k}, {path} @{threads}t",
        [
            ("threads", threads), ("path", path.ToString()), ("int8_ms", t.Median * 1e3), ("int8_gops", gops),
            ("int8_peak_gops", peak), ("fraction_of_int8_peak", gops / peak),
        ]);
    }
}
