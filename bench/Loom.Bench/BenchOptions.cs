using Loom.Bench.Comparison;

namespace Loom.Bench;

/// <summary>Settings shared by all benchmarks.</summary>
/// <param name="Quick">Fewer sizes and repetitions (for smoke tests).</param>
/// <param name="ThreadCounts">Thread counts to measure at.</param>
/// <param name="Only">Run only benchmarks whose name is in this set (null: all).</param>
/// <param name="Peers">Also run the peers (bench/peers: PyTorch, numpy's OpenBLAS) in the same run, interleaved case by case, and report ratios.</param>
public sealed record BenchOptions(bool Quick, int[] ThreadCounts, IReadOnlySet<string>? Only = null, bool Peers = false)
{
    public static BenchOptions Default => new(false, [1, 2]);

    /// <summary>How cases are compared with their peers; null: <see cref="ComparisonSettings.Quick"/> when quick, the defaults otherwise.</summary>
    public ComparisonSettings? Comparison { get; init; }

    public ComparisonSettings ComparisonSettings => Comparison ?? (Quick ? ComparisonSettings.Quick : new ComparisonSettings());
}
