using System.Diagnostics;
using Loom.Autograd;
using Loom.Bench.Comparison;
using Loom.Compress;
using Loom.Memory;
using Loom.Models;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Static int8 inference of the zoo's Fashion-MNIST CNN (<see cref="StaticQuantization"/>: u8 activations flow
/// channels-last from convolution to convolution) against the same float model, whole forward at batch 1 and 64,
/// interleaved so that the speed-up is measured under one load; then the profile: each layer's forward alone on the
/// input it sees in the model, float and int8, so a slow layer shows where the time goes. Weights are random (speed
/// does not depend on them), batch norm statistics are made non-trivial, calibration is min-max on random images.
/// </summary>
public sealed class Int8CnnBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "int8cnn";

    public void Run(BenchReport report, BenchOptions options)
    {
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            var (fp32, int8) = Models();
            foreach (int batch in new[] { 1, 64 })
            {
                var x = Tensor.Rand(new Shape(batch, 1, 28, 28), new Generator((ulong)batch));
                Action runInt8 = () => { using var scope = new MemoryScope(); using var noGrad = new NoGrad(); int8.Forward(x); };
                Action runFloat = () => { using var scope = new MemoryScope(); using var noGrad = new NoGrad(); fp32.Forward(x); };
                var warmInt8 = Timing.Measure(runInt8, warmup: 5, minIterations: 5, budgetSeconds: 0.1);
                var warmFloat = Timing.Measure(runFloat, warmup: 5, minIterations: 5, budgetSeconds: 0.1);
                var r = Interleaved.Run(n => Timing.Round(runInt8, n), warmInt8.Median, n => Timing.Round(runFloat, n), warmFloat.Median, options.ComparisonSettings);
                report.Add(Name, $"cnn forward, batch {batch} @{threads}t",
                [
                    ("threads", threads), ("batch", batch), ("int8_ms", r.LoomMedianSeconds * 1e3), ("float_ms", r.PeerMedianSeconds * 1e3),
                    ("speedup", 1 / r.Ratio.Median), ("spread", r.Ratio.Spread), ("rounds", r.Ratio.Ratios.Count), ("unstable", r.Ratio.Unstable),
                ]);
                Profile(report, threads, batch, x, fp32, int8, options.Quick);
            }
        }
    }

    private static (Sequential Float, Sequential Int8) Models()
    {
        var fp32 = ModelZoo.SmallCnn((1, 28, 28), 10);
        var g = new Generator(3);
        using (new NoGrad())
            foreach (var (name, buffer) in fp32.NamedBuffers())
            {
                // Spread batch-norm statistics, so that folding is not the identity.
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.CopyFrom(Tensor.Randn(buffer.Shape, g) * 0.1f);
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.CopyFrom(Tensor.Rand(buffer.Shape, g) + 0.5f);
            }
        fp32.Eval();
        var int8 = ModelZoo.SmallCnn((1, 28, 28), 10);
        int8.LoadStateDict(fp32.StateDict());
        var calibration = Enumerable.Range(0, 4).Select(i => Tensor.Rand(new Shape(64, 1, 28, 28), new Generator((ulong)(100 + i)))).ToList();
        StaticQuantization.Quantize(int8, calibration, CalibrationMethod.MinMax);
        return (fp32, int8);
    }

    /// <summary>Median time of each layer's forward on its own input, float and int8 side by side.</summary>
    private void Profile(BenchReport report, int threads, int batch, Tensor x, Sequential fp32, Sequential int8, bool quick)
    {
        using var noGrad = new NoGrad();
        Tensor a = x, b = x;
        for (int i = 0; i < fp32.Count; i++)
        {
            var (fa, fb) = (a, b);
            var floatLayer = fp32[i];
            var int8Layer = int8[i];
            double tf = Timing.Measure(() => { using var s = new MemoryScope(); floatLayer.Forward(fa); }, warmup: 3, budgetSeconds: quick ? 0.02 : 0.1).Median;
            double tq = Timing.Measure(() => { using var s = new MemoryScope(); int8Layer.Forward(fb); }, warmup: 3, budgetSeconds: quick ? 0.02 : 0.1).Median;
            report.Add(Name, $"layer {i} {int8Layer.GetType().Name}, batch {batch} @{threads}t",
            [
                ("threads", threads), ("batch", batch), ("layer", i), ("float_layer", floatLayer.GetType().Name), ("int8_layer", int8Layer.GetType().Name),
                ("int8_input", b.DType.Name()), ("float_ms", tf * 1e3), ("int8_ms", tq * 1e3),
            ]);
            a = floatLayer.Forward(fa);
            b = int8Layer.Forward(fb);
        }
        Debug.Assert(a.Shape == b.Shape);
    }
}
