namespace Loom.Bench.Comparison;

/// <summary>Median and minimum seconds per step over one block of steps, and the block's length.</summary>
public readonly record struct RoundTiming(double MedianSeconds, double MinSeconds, int Iterations)
{
    /// <summary>Mean seconds per step of each phase of the step, when the peer reports them.</summary>
    public IReadOnlyDictionary<string, double>? Phases { get; init; }
}

/// <summary>Runs and times a block of <c>iterations</c> steps of one side of a comparison.</summary>
public delegate RoundTiming RoundRunner(int iterations);

/// <summary>How a case is compared with its peer.</summary>
/// <param name="Rounds">Rounds per case; each gives one ratio.</param>
/// <param name="RoundSeconds">The least time each side spends in one round, so that a round is long enough to time.</param>
/// <param name="MaxSpread">The widest spread of the per-round ratios (interquartile range over median) still trusted.</param>
public sealed record ComparisonSettings(int Rounds = 7, double RoundSeconds = 0.4, double MaxSpread = 0.2)
{
    /// <summary>For smoke runs: three short rounds.</summary>
    public static ComparisonSettings Quick => new(3, 0.1);
}

/// <summary>The outcome of comparing one case: every round of each side and the summary of their ratios.</summary>
public sealed record CaseComparison(IReadOnlyList<RoundTiming> Loom, IReadOnlyList<RoundTiming> Peer, RatioSummary Ratio)
{
    public double LoomMedianSeconds => Median(Loom);

    public double PeerMedianSeconds => Median(Peer);

    private static double Median(IReadOnlyList<RoundTiming> rounds) =>
        RatioSummary.Quantile(rounds.Select(r => r.MedianSeconds).Order().ToArray(), 0.5);
}

/// <summary>
/// Compares Loom with a peer on one case in alternating rounds, so that both see the same background load: on a
/// shared machine the load drifts within seconds, and a ratio of two measurements minutes apart swings by 2× from run
/// to run. Each round runs one block of each side; the side that goes first alternates (Loom then peer in even
/// rounds, peer then Loom in odd ones), so a steady drift in load favours neither. The ratio of a round is Loom's
/// median step time over the peer's; the case's ratio is the median over rounds.
/// </summary>
public static class Interleaved
{
    /// <summary>Steps per block so that a block lasts at least <paramref name="roundSeconds"/>.</summary>
    public static int IterationsFor(double stepSeconds, double roundSeconds) =>
        (int)Math.Clamp(Math.Ceiling(roundSeconds / Math.Max(stepSeconds, 1e-7)), 1, 1_000_000);

    /// <summary>
    /// Runs <see cref="ComparisonSettings.Rounds"/> rounds. Block lengths come from the warm-up estimates
    /// (<paramref name="loomStepSeconds"/>, <paramref name="peerStepSeconds"/>) and are recalibrated once from the
    /// first round, whose estimate is better. <paramref name="betweenBlocks"/> runs between any two blocks.
    /// </summary>
    public static CaseComparison Run(RoundRunner loom, double loomStepSeconds, RoundRunner peer, double peerStepSeconds,
        ComparisonSettings settings, Action? betweenBlocks = null)
    {
        if (settings.Rounds < 1) throw new ArgumentOutOfRangeException(nameof(settings), "at least one round is needed");
        int loomIterations = IterationsFor(loomStepSeconds, settings.RoundSeconds);
        int peerIterations = IterationsFor(peerStepSeconds, settings.RoundSeconds);
        var loomRounds = new List<RoundTiming>();
        var peerRounds = new List<RoundTiming>();
        var ratios = new List<double>();
        for (int round = 0; round < settings.Rounds; round++)
        {
            RoundTiming l, p;
            if (round % 2 == 0)
            {
                l = loom(loomIterations);
                betweenBlocks?.Invoke();
                p = peer(peerIterations);
            }
            else
            {
                p = peer(peerIterations);
                betweenBlocks?.Invoke();
                l = loom(loomIterations);
            }
            if (round + 1 < settings.Rounds) betweenBlocks?.Invoke();
            loomRounds.Add(l);
            peerRounds.Add(p);
            ratios.Add(l.MedianSeconds / p.MedianSeconds);
            if (round == 0)
            {
                loomIterations = IterationsFor(l.MedianSeconds, settings.RoundSeconds);
                peerIterations = IterationsFor(p.MedianSeconds, settings.RoundSeconds);
            }
        }
        return new CaseComparison(loomRounds, peerRounds, RatioSummary.Of(ratios, settings.MaxSpread));
    }
}
