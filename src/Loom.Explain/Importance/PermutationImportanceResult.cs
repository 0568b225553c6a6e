namespace Loom.Explain;

/// <summary>
/// Permutation importance per feature: how much the score drops when the feature's column is shuffled, over
/// <see cref="Drops"/>.Length repeats (scikit-learn's permutation_importance).
/// </summary>
/// <param name="BaselineScore">The score on the unshuffled data.</param>
/// <param name="Drops">[features][repeats]: baseline score − score with the feature shuffled.</param>
public sealed record PermutationImportanceResult(double BaselineScore, double[][] Drops)
{
    public int Features => Drops.Length;

    public double[] Mean => Drops.Select(d => d.Average()).ToArray();

    /// <summary>Population standard deviation over the repeats, as scikit-learn reports it.</summary>
    public double[] Std => Drops.Select(d => Math.Sqrt(d.Select(v => (v - d.Average()) * (v - d.Average())).Average())).ToArray();

    /// <summary>Features by decreasing mean drop (ties by index).</summary>
    public int[] Ranking => Enumerable.Range(0, Features).OrderByDescending(f => Mean[f]).ThenBy(f => f).ToArray();
}
