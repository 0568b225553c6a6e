namespace Loom.Bench;

/// <summary>Settings shared by all benchmarks.</summary>
/// <param name="Quick">Fewer sizes and repetitions (for smoke tests).</param>
/// <param name="ThreadCounts">Thread counts to measure at.</param>
/// <param name="Only">Run only benchmarks whose name is in this set (null: all).</param>
public sealed record BenchOptions(bool Quick, int[] ThreadCounts, IReadOnlySet<string>? Only = null)
{
    public static BenchOptions Default => new(false, [1, 2]);
}
