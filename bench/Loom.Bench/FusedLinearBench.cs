using Loom.Autograd;
using Loom.Bench.Comparison;
using Loom.Memory;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Linear with its activation fused into the GEMM epilogue (<c>Functional.Linear(x, w, b, activation)</c>) against
/// Linear followed by the activation's tensor op, forward under NoGrad and forward + backward, on the shapes of the
/// MLP (784 → 512, ReLU, batch 1 and 128) and of the GPT's feed-forward layer (256 → 1024, GELU, 8 × 128 rows). The two
/// alternate in rounds as Loom and a peer do (<see cref="Interleaved"/>), so the ratio fused/unfused (below 1: fusion
/// is faster) is measured under the same load.
/// </summary>
public sealed class FusedLinearBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "linear-fused";

    private sealed record Case(string Name, int Rows, int In, int Out, Activation Activation);

    private static readonly Case[] Cases =
    [
        new("mlp 784-512 relu, batch 1", 1, 784, 512, Activation.Relu),
        new("mlp 784-512 relu, batch 128", 128, 784, 512, Activation.Relu),
        new("gpt fc 256-1024 gelu, 1024 rows", 1024, 256, 1024, Activation.Gelu),
    ];

    public void Run(BenchReport report, BenchOptions options)
    {
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var c in Cases)
            {
                var g = new Generator(1);
                var x = Tensor.Randn(new Shape(c.Rows, c.In), g).RequiresGrad_();
                var w = Tensor.Randn(new Shape(c.Out, c.In), g).Mul(1 / Math.Sqrt(c.In)).Detach().RequiresGrad_();
                var b = Tensor.Randn(new Shape(c.Out), g).RequiresGrad_();
                var dy = Tensor.Randn(new Shape(c.Rows, c.Out), g);
                Tensor Fused() => Functional.Linear(x, w, b, c.Activation);
                Tensor Unfused() => Activate(Functional.Linear(x, w, b), c.Activation);

                Compare(report, options, threads, $"{c.Name}, forward", Forward(Fused), Forward(Unfused));
                Compare(report, options, threads, $"{c.Name}, forward+backward", Training(Fused, dy, x, w, b), Training(Unfused, dy, x, w, b));
            }
        }
    }

    private static Action Forward(Func<Tensor> f) => () =>
    {
        using var scope = new MemoryScope();
        using var noGrad = new NoGrad();
        f();
    };

    private static Action Training(Func<Tensor> f, Tensor dy, params Tensor[] parameters) => () =>
    {
        using var scope = new MemoryScope();
        foreach (var p in parameters) p.Grad = null;
        f().Backward(dy);
    };

    private static Tensor Activate(Tensor z, Activation activation) => activation switch
    {
        Activation.Relu => z.Relu(),
        Activation.Gelu => z.Gelu(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    private void Compare(BenchReport report, BenchOptions options, int threads, string name, Action fused, Action unfused)
    {
        var warm = Timing.Measure(fused, warmup: 5, minIterations: 5, budgetSeconds: 0.05);
        var warmUnfused = Timing.Measure(unfused, warmup: 5, minIterations: 5, budgetSeconds: 0.05);
        var settings = options.ComparisonSettings;
        var r = Interleaved.Run(n => Timing.Round(fused, n), warm.Median, n => Timing.Round(unfused, n), warmUnfused.Median, settings);
        report.Add(Name, $"{name} @{threads}t",
        [
            ("threads", threads), ("fused_ms", r.LoomMedianSeconds * 1e3), ("unfused_ms", r.PeerMedianSeconds * 1e3),
            ("ratio", r.Ratio.Median), ("spread", r.Ratio.Spread), ("rounds", r.Ratio.Ratios.Count), ("unstable", r.Ratio.Unstable),
        ]);
    }
}
