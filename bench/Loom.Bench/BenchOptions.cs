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

    /// <summary>Run only the cases whose name contains one of these (null: all cases).</summary>
    public IReadOnlyList<string>? Cases { get; init; }

    /// <summary>Also profile each training step op by op (<see cref="Loom.Autograd.OpProfiler"/>) and print the table.</summary>
    public bool Profile { get; init; }

    /// <summary>
    /// When at least 2: the training steps also run as this many independent 1-thread copies at once, one per thread,
    /// and report their summed rate against the FMA peak at as many threads: what a step over that many threads could
    /// reach if threading cost nothing but the shared caches and memory (0: not run).
    /// </summary>
    public int Copies { get; init; }

    /// <summary>Whether the case named <paramref name="name"/> passes <see cref="Cases"/>.</summary>
    public bool Includes(string name) => Cases is null || Cases.Any(c => name.Contains(c, StringComparison.OrdinalIgnoreCase));

    public ComparisonSettings ComparisonSettings => Comparison ?? (Quick ? ComparisonSettings.Quick : new ComparisonSettings());
}
