using Loom.Autograd;
using Loom.Memory;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Pooling after a CNN layer: [64, 64, 28, 28] through max_pool2d(2) and avg_pool2d(2), forward and forward+backward.
/// Pooling is memory-bound, so the figure is GB/s of input read plus output written.
/// </summary>
public sealed class PoolBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "pool2d";

    public void Run(BenchReport report, BenchOptions options)
    {
        int batch = options.Quick ? 8 : 64;
        var x = Tensor.Randn(new Shape(batch, 64, 28, 28), new Generator(1));
        var xg = x.Detach().RequiresGrad_();
        var dy = Tensor.Randn(new Shape(batch, 64, 14, 14), new Generator(2));
        double bytes = (x.Numel + dy.Numel) * sizeof(float);
        int warmup = options.Quick ? 1 : 3, iterations = options.Quick ? 3 : 10;
        var ops = new (string Name, Func<Tensor, Tensor> Pool)[]
        {
            ("max_pool2d k2", t => Functional.MaxPool2d(t, 2)),
            ("avg_pool2d k2", t => Functional.AvgPool2d(t, 2)),
            ("max_pool2d k3 s2 p1", t => Functional.MaxPool2d(t, 3, stride: 2, padding: 1)),
        };
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var (name, pool) in ops)
            {
                var f = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    using var noGrad = new NoGrad();
                    pool(x);
                }, warmup, iterations, options.Quick ? 0.2 : 0.5);
                report.Add(Name, $"forward {name} b{batch} t{threads}", ("median_ms", f.Median * 1e3), ("gb_per_s", bytes / f.Median / 1e9));
                var t = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    var y = pool(xg);
                    y.Backward(y.Shape == dy.Shape ? dy : Tensor.Ones(y.Shape));
                }, warmup, iterations, options.Quick ? 0.2 : 0.5);
                report.Add(Name, $"forward+backward {name} b{batch} t{threads}", ("median_ms", t.Median * 1e3), ("gb_per_s", 3 * bytes / t.Median / 1e9));
            }
        }
    }
}
