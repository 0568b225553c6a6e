namespace Loom.Bench.Comparison;

/// <summary>
/// The per-round time ratios Loom/peer of one case (below 1: Loom is faster): their median, quartiles and range, and
/// whether they scatter too widely to trust.
/// </summary>
/// <param name="Spread">Interquartile range over the median: how wide the middle half of the rounds is, relatively.</param>
/// <param name="Unstable">Spread above the allowed maximum: the background load changed too much during the case.</param>
public sealed record RatioSummary(double Median, double Q1, double Q3, double Min, double Max, double Spread, bool Unstable, IReadOnlyList<double> Ratios)
{
    /// <summary>Summarises <paramref name="ratios"/> (at least one); unstable when the spread exceeds <paramref name="maxSpread"/>.</summary>
    public static RatioSummary Of(IReadOnlyList<double> ratios, double maxSpread)
    {
        if (ratios.Count == 0) throw new ArgumentException("no ratios to summarise", nameof(ratios));
        var sorted = ratios.Order().ToArray();
        double median = Quantile(sorted, 0.5), q1 = Quantile(sorted, 0.25), q3 = Quantile(sorted, 0.75);
        double spread = (q3 - q1) / median;
        return new RatioSummary(median, q1, q3, sorted[0], sorted[^1], spread, spread > maxSpread, ratios.ToArray());
    }

    /// <summary>The p-quantile of sorted values, interpolating linearly between neighbours (numpy's default).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double p)
    {
        double h = (sorted.Count - 1) * p;
        int below = (int)Math.Floor(h);
        int above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
    }
}
