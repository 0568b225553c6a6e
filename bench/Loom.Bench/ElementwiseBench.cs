using System.Reflection;
using Loom.Memory;

namespace Loom.Bench;

/// <summary>
/// Memory-bound element-wise ops on arrays larger than the caches (16M floats, 64 MB each), as GB/s of bytes the op
/// must move: add reads two arrays and writes one; mul-by-scalar, exp and gelu read one and write one. Each run is
/// wrapped in a <see cref="MemoryScope"/> so the result buffer is reused from the pool, as in a training step.
/// </summary>
public sealed class ElementwiseBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "elementwise";

    public void Run(BenchReport report, BenchOptions options)
    {
        int n = options.Quick ? 1 << 22 : 1 << 24;
        Tensor a, b, c;
        using (MemoryScope.Persistent())
        {
            a = Tensor.Uniform(new Shape(n), -3, 3, new Random.Generator(1));
            b = Tensor.Uniform(new Shape(n), -3, 3, new Random.Generator(2));
            c = a.Clone();
        }
        var cases = new (string Name, int Arrays, Func<Tensor> Op)[]
        {
            ("add", 3, () => a.Add(b)),
            ("add_ (in place)", 3, () => c.AddInPlace(b)),
            ("mul scalar", 2, () => a.Mul(1.0000001)),
            ("exp", 2, () => a.Exp()),
            ("gelu", 2, () => a.Gelu()),
            ("gelu tanh", 2, () => a.Gelu(approximate: true)),
        };
        var copyBandwidth = CopyBandwidthProbe();
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var (name, arrays, op) in cases)
            {
                var (median, _, iterations) = Timing.Measure(() =>
                {
                    using var scope = new MemoryScope();
                    op();
                }, warmup: 2, minIterations: 5, budgetSeconds: options.Quick ? 0.3 : 1.5);
                double gbps = (double)arrays * n * sizeof(float) / median / 1e9;
                var metrics = new List<(string, object)>
                {
                    ("threads", threads), ("elements", n), ("ms", median * 1e3), ("GB/s", gbps), ("iterations", iterations),
                };
                if (copyBandwidth?.Invoke(threads) is double copy and > 0) metrics.Add(("of_copy_bandwidth", gbps / copy));
                report.Add(Name, $"{name} t{threads}", metrics.ToArray());
            }
        }
    }

    /// <summary>
    /// The machine's measured copy bandwidth by thread count, from <c>MachineLimits</c> when the bench assembly has it
    /// (found by name so this benchmark does not depend on it being present); null otherwise.
    /// </summary>
    private static Func<int, double>? CopyBandwidthProbe()
    {
        var type = typeof(ElementwiseBench).Assembly.GetType("Loom.Bench.MachineLimits");
        var measure = type?.GetMethod("Measure", BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes);
        var copy = type?.GetMethod("CopyBandwidth", [typeof(int)]);
        if (measure is null || copy is null) return null;
        var limits = measure.Invoke(null, null);
        return threads => (double)copy.Invoke(limits, [threads])!;
    }
}
