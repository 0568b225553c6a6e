using System.Text.Json.Nodes;
using Loom.Autograd;
using Loom.Bench.Comparison;
using Loom.Memory;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Where a resnet-mini training step goes, layer shape by layer shape (batch 128): each distinct convolution's
/// forward + backward (input and weight gradients; the stem's input needs none), and batch norm + ReLU forward +
/// backward at each stage's shape, with how many times a step runs it. With --peers each case alternates rounds with
/// PyTorch's same layer (bench/peers/torch_peer.py "layer/conv2d", "layer/bn-relu"), so the per-layer ratios of one run
/// say which layers lose the step's ratio.
/// </summary>
public sealed class ResNetLayersBench : IBenchmark
{
    public string Suite => "train";

    public string Name => "resnet-layers";

    /// <summary>A convolution of resnet-mini: channels, input side, kernel, stride, and its count per step.</summary>
    private sealed record ConvLayer(string Name, int In, int Out, int Size, int Kernel, int Stride, int Count, bool InputGrad = true)
    {
        public int Padding => Kernel / 2;

        public int OutSize => (Size + 2 * Padding - Kernel) / Stride + 1;
    }

    private static readonly ConvLayer[] Convs =
    [
        new("stem 1->16 28x28 k3", 1, 16, 28, 3, 1, 1, InputGrad: false),
        new("16->16 28x28 k3", 16, 16, 28, 3, 1, 4),
        new("16->32 28x28 k3 s2", 16, 32, 28, 3, 2, 1),
        new("16->32 28x28 k1 s2", 16, 32, 28, 1, 2, 1),
        new("32->32 14x14 k3", 32, 32, 14, 3, 1, 3),
        new("32->64 14x14 k3 s2", 32, 64, 14, 3, 2, 1),
        new("32->64 14x14 k1 s2", 32, 64, 14, 1, 2, 1),
        new("64->64 7x7 k3", 64, 64, 7, 3, 1, 3),
    ];

    /// <summary>Batch norm shapes (stem, two per block, the shortcut's): channels, side, count per step; timed with the ReLU that follows most of them.</summary>
    private static readonly (int Channels, int Size, int Count)[] Norms = [(16, 28, 5), (32, 14, 5), (64, 7, 5)];

    private const int Batch = 128;

    public void Run(BenchReport report, BenchOptions options)
    {
        int batch = options.Quick ? 8 : Batch;
        var g = new Generator(3);
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var c in Convs)
            {
                string name = $"conv {c.Name} b{batch} x{c.Count} t{threads}";
                if (!options.Includes(name)) continue;
                var x = Tensor.Randn(new Shape(batch, c.In, c.Size, c.Size), g);
                if (c.InputGrad) x.RequiresGrad_();
                var w = Tensor.Randn(new Shape(c.Out, c.In, c.Kernel, c.Kernel), g, std: 0.1).RequiresGrad_();
                var dy = Tensor.Randn(new Shape(batch, c.Out, c.OutSize, c.OutSize), g);
                void Step()
                {
                    using var scope = new MemoryScope();
                    Functional.Conv2d(x, w, null, stride: c.Stride, padding: c.Padding).Backward(dy);
                }
                var parameters = new JsonObject
                {
                    ["batch"] = batch, ["in"] = c.In, ["out"] = c.Out, ["size"] = c.Size, ["kernel"] = c.Kernel, ["stride"] = c.Stride,
                    ["input_grad"] = c.InputGrad,
                };
                double flops = (c.InputGrad ? 3.0 : 2.0) * 2.0 * batch * c.Out * c.OutSize * c.OutSize * c.In * c.Kernel * c.Kernel;
                // Loom alone: the forward pass, and forward + weight gradient, so the three kernels' shares can be told apart.
                var xNoGrad = x.Detach();
                double forward = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    using var noGrad = new NoGrad();
                    Functional.Conv2d(xNoGrad, w, null, stride: c.Stride, padding: c.Padding);
                }, 3, options.Quick ? 2 : 10, options.Quick ? 0.05 : 0.3).Median;
                double forwardWeightGrad = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    Functional.Conv2d(xNoGrad, w, null, stride: c.Stride, padding: c.Padding).Backward(dy);
                }, 3, options.Quick ? 2 : 10, options.Quick ? 0.05 : 0.3).Median;
                Add(report, name, Step, report.Peers.Setup("torch", "layer/conv2d", threads, parameters), options, c.Count, flops,
                    ("forward_ms", forward * 1e3), ("forward_weight_grad_ms", forwardWeightGrad * 1e3));
            }
            foreach (var (channels, size, count) in Norms)
            {
                string name = $"batch norm + relu {channels}x{size}x{size} b{batch} x{count} t{threads}";
                if (!options.Includes(name)) continue;
                var x = Tensor.Randn(new Shape(batch, channels, size, size), g).RequiresGrad_();
                var weight = Tensor.Ones(new Shape(channels)).RequiresGrad_();
                var bias = Tensor.Zeros(new Shape(channels)).RequiresGrad_();
                var mean = Tensor.Zeros(new Shape(channels));
                var variance = Tensor.Ones(new Shape(channels));
                var dy = Tensor.Randn(x.Shape, g);
                void Step()
                {
                    using var scope = new MemoryScope();
                    Functional.BatchNorm(x, mean, variance, weight, bias, training: true).Relu().Backward(dy);
                }
                var parameters = new JsonObject { ["batch"] = batch, ["channels"] = channels, ["size"] = size };
                Add(report, name, Step, report.Peers.Setup("torch", "layer/bn-relu", threads, parameters), options, count, 0);
            }
        }
    }

    private static void Add(BenchReport report, string name, Action step, Peers.PeerCase? peer, BenchOptions options, int count, double flops,
        params (string, object)[] extra)
    {
        var t = CaseTimer.Time(step, peer, options, warmup: 3, minIterations: options.Quick ? 2 : 10, budgetSeconds: options.Quick ? 0.1 : 0.5);
        var metrics = new List<(string, object)> { ("median_ms", t.MedianSeconds * 1e3), ("per_step_ms", count * t.MedianSeconds * 1e3), ("count", count) };
        if (flops > 0) metrics.Add(("gflops", flops / t.MedianSeconds / 1e9));
        metrics.AddRange(extra);
        report.Add("resnet-layers", name, [.. metrics, .. t.PeerMetrics()]);
    }
}
