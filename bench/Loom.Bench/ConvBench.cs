using System.Text.Json.Nodes;
using Loom.Autograd;
using Loom.Bench.Comparison;
using Loom.Memory;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// conv2d as in a small CNN layer: batch 64, 32 → 64 channels, 28×28, 3×3 kernel, padding 1 (1.85 GFLOP forward,
/// twice that again backward). Reports median forward and forward+backward times and GFLOP/s per thread count.
/// With --peers, both passes alternate rounds with PyTorch's on the same shape and report the time ratio.
/// Also times LeNet-5's two convolutions (batch 64), whose few channels are what the direct kernels are for.
/// </summary>
public sealed class ConvBench : IBenchmark
{
    private const int InChannels = 32, OutChannels = 64, Size = 28, Kernel = 3;

    public string Suite => "kernels";

    public string Name => "conv2d";

    public void Run(BenchReport report, BenchOptions options)
    {
        int batch = options.Quick ? 8 : 64;
        var g = new Generator(1);
        var x = Tensor.Randn(new Shape(batch, InChannels, Size, Size), g);
        var w = Tensor.Randn(new Shape(OutChannels, InChannels, Kernel, Kernel), g, std: 0.1);
        var b = Tensor.Randn(new Shape(OutChannels), g);
        var dy = Tensor.Randn(new Shape(batch, OutChannels, Size, Size), g);
        var xg = x.Detach().RequiresGrad_();
        var wg = w.Detach().RequiresGrad_();
        var bg = b.Detach().RequiresGrad_();
        double forwardFlops = 2.0 * batch * OutChannels * Size * Size * InChannels * Kernel * Kernel;
        // Backward is two GEMMs of the forward's size (input and weight gradients); the bias sum is negligible.
        double trainFlops = 3 * forwardFlops;
        string shape = $"b{batch} {InChannels}->{OutChannels} {Size}x{Size} k{Kernel} p1";
        int warmup = options.Quick ? 1 : 3, iterations = options.Quick ? 2 : 5;
        double budget = options.Quick ? 0.2 : 1.0;

        void Forward()
        {
            using var scope = new MemoryScope();
            using var noGrad = new NoGrad();
            Functional.Conv2d(x, w, b, padding: 1);
        }

        void ForwardBackward()
        {
            using var scope = new MemoryScope();
            Functional.Conv2d(xg, wg, bg, padding: 1).Backward(dy);
        }

        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            var peerParameters = new JsonObject { ["batch"] = batch };
            var f = CaseTimer.Time(Forward, report.Peers.Setup("torch", "conv2d/forward", threads, peerParameters, warmup), options, warmup, iterations, budget);
            report.Add(Name, $"forward {shape} t{threads}",
                [("median_ms", f.MedianSeconds * 1e3), ("gflops", forwardFlops / f.MedianSeconds / 1e9), ("alloc_kb", AllocatedKb(Forward)), .. f.PeerMetrics()]);
            var t = CaseTimer.Time(ForwardBackward, report.Peers.Setup("torch", "conv2d/forward+backward", threads, peerParameters, warmup), options, warmup, iterations, budget);
            report.Add(Name, $"forward+backward {shape} t{threads}",
                [("median_ms", t.MedianSeconds * 1e3), ("gflops", trainFlops / t.MedianSeconds / 1e9), ("alloc_kb", AllocatedKb(ForwardBackward)), .. t.PeerMetrics()]);
        }

        RunLeNet(report, options, batch);
        RunResNet18Blocked(report, options);
    }

    /// <summary>
    /// ResNet18's 3×3 stride-1 convolutions at batch 1 as its inference plan runs them (blocked channels, bias,
    /// residual, ReLU): Winograd F(2×2, 3×3) against the direct kernel (<see cref="PackedConv2dWeight.AllowWinograd"/>
    /// off), alternating, with the largest difference between their outputs.
    /// </summary>
    private void RunResNet18Blocked(BenchReport report, BenchOptions options)
    {
        if (Functional.Conv2dChannelBlock(DType.Float32) is not (> 0 and var block)) return;
        var g = new Generator(3);
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var (channels, size) in new[] { (64, 56), (128, 28), (256, 14), (512, 7) })
            {
                string name = $"resnet18 {channels}->{channels} {size}x{size} k3 p1 b1 blocked t{threads}";
                if (!options.Includes(name)) continue;
                var x = Functional.ToChannelBlocks(Tensor.Randn(new Shape(1, channels, size, size), g), block);
                var residual = Functional.ToChannelBlocks(Tensor.Randn(new Shape(1, channels, size, size), g), block);
                var w = Tensor.Randn(new Shape(channels, channels, 3, 3), g, std: Math.Sqrt(2.0 / (9 * channels)));
                var b = Tensor.Randn(new Shape(channels), g, std: 0.1);
                var winograd = new PackedConv2dWeight(w);
                var direct = new PackedConv2dWeight(w) { AllowWinograd = false };
                Tensor Run(PackedConv2dWeight packed) => Functional.Conv2dBlocked(x, packed, b, (1, 1), (1, 1), (1, 1), Activation.Relu, residual);
                float diff;
                using (new NoGrad()) diff = (float)Run(winograd).Sub(Run(direct)).Abs().Max().Item();
                int warmup = options.Quick ? 1 : 10, iterations = options.Quick ? 2 : 20;
                double budget = options.Quick ? 0.05 : 0.3, d = double.MaxValue, wi = double.MaxValue;
                // Two alternating rounds each, the faster kept: both see the same machine state.
                for (int round = 0; round < 2; round++)
                {
                    d = Math.Min(d, Time(direct));
                    wi = Math.Min(wi, Time(winograd));
                }
                report.Add(Name, name, [("direct_ms", d * 1e3), ("winograd_ms", wi * 1e3), ("winograd_over_direct", wi / d), ("max_abs_diff", diff)]);

                double Time(PackedConv2dWeight packed) => CaseTimer.Time(() =>
                {
                    using var scope = new MemoryScope();
                    using var noGrad = new NoGrad();
                    Run(packed);
                }, null, options, warmup, iterations, budget).MedianSeconds;
            }
        }
    }

    /// <summary>LeNet-5's conv1 (1 → 6, 5×5, padding 2, 28×28) and conv2 (6 → 16, 5×5, 14×14), forward and forward+backward.</summary>
    private void RunLeNet(BenchReport report, BenchOptions options, int batch)
    {
        var g = new Generator(2);
        var layers = new (string Name, Tensor X, Tensor W, Tensor B, int Padding)[]
        {
            ("lenet conv1 1->6 28x28 k5 p2", Tensor.Randn(new Shape(batch, 1, 28, 28), g), Tensor.Randn(new Shape(6, 1, 5, 5), g), Tensor.Randn(new Shape(6), g), 2),
            ("lenet conv2 6->16 14x14 k5", Tensor.Randn(new Shape(batch, 6, 14, 14), g), Tensor.Randn(new Shape(16, 6, 5, 5), g), Tensor.Randn(new Shape(16), g), 0),
        };
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var (name, x, w, b, padding) in layers)
            {
                // conv1's input is the network's input, which needs no gradient; conv2's does.
                var xg = padding == 2 ? x : x.Detach().RequiresGrad_();
                var wg = w.Detach().RequiresGrad_();
                var bg = b.Detach().RequiresGrad_();
                var dy = Tensor.Randn(Functional.Conv2d(x, w, b, padding: padding).Shape, g);
                var f = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    using var noGrad = new NoGrad();
                    Functional.Conv2d(x, w, b, padding: padding);
                }, 3, options.Quick ? 2 : 20, options.Quick ? 0.1 : 0.5);
                report.Add(Name, $"forward {name} b{batch} t{threads}", ("median_ms", f.Median * 1e3));
                var t = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    Functional.Conv2d(xg, wg, bg, padding: padding).Backward(dy);
                }, 3, options.Quick ? 2 : 20, options.Quick ? 0.1 : 0.5);
                report.Add(Name, $"forward+backward {name} b{batch} t{threads}", ("median_ms", t.Median * 1e3));
            }
        }
    }

    // Managed bytes allocated by one run on all threads (after warm-up, so pooled buffers are reused).
    private static double AllocatedKb(Action action)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        action();
        return (GC.GetTotalAllocatedBytes(precise: true) - before) / 1024.0;
    }
}
