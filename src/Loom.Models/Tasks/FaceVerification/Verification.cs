namespace Loom.Models;

/// <summary>One operating point of a verifier: accept a pair when its similarity is at least <see cref="Threshold"/>.</summary>
/// <param name="FalseAcceptRate">Share of different-identity pairs accepted (FAR).</param>
/// <param name="TrueAcceptRate">Share of same-identity pairs accepted (TAR = 1 − FRR).</param>
public readonly record struct RocPoint(double Threshold, double FalseAcceptRate, double TrueAcceptRate);

/// <summary>
/// Verification and identification figures of an embedding: the ROC of pair similarities, the equal error rate, the
/// true accept rate at a fixed false accept rate, and top-1 identification by nearest neighbour.
/// </summary>
public static class Verification
{
    /// <summary>
    /// The ROC of <paramref name="scores"/> (higher: more alike) for pairs that are (<paramref name="same"/>) or are not
    /// of one identity: a point per distinct score, by decreasing threshold, after a first point at +∞ (nothing accepted).
    /// Equal scores are one threshold: a pair cannot be accepted without its equals.
    /// </summary>
    public static IReadOnlyList<RocPoint> Roc(IReadOnlyList<double> scores, IReadOnlyList<bool> same)
    {
        if (scores.Count != same.Count) throw new ArgumentException($"Verification: {scores.Count} scores but {same.Count} labels");
        int positives = same.Count(s => s), negatives = same.Count - positives;
        if (positives == 0 || negatives == 0) throw new ArgumentException($"Verification: needs same and different pairs, got {positives} and {negatives}");
        if (scores.Any(s => !double.IsFinite(s))) throw new ArgumentException("Verification: scores must be finite");
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        var points = new List<RocPoint> { new(double.PositiveInfinity, 0, 0) };
        int tp = 0, fp = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (same[order[k]]) tp++; else fp++;
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]]) continue;
            points.Add(new RocPoint(scores[order[k]], fp / (double)negatives, tp / (double)positives));
        }
        return points;
    }

    /// <summary>
    /// The equal error rate: where the false accept rate equals the false reject rate (1 − TAR), linearly interpolated
    /// between the two ROC points that straddle it, with the threshold interpolated likewise.
    /// </summary>
    public static (double Rate, double Threshold) EqualErrorRate(IReadOnlyList<RocPoint> roc)
    {
        for (int k = 1; k < roc.Count; k++)
        {
            double before = (1 - roc[k - 1].TrueAcceptRate) - roc[k - 1].FalseAcceptRate, after = (1 - roc[k].TrueAcceptRate) - roc[k].FalseAcceptRate;
            if (after > 0) continue;
            double a = before / (before - after);
            double threshold = double.IsInfinity(roc[k - 1].Threshold) ? roc[k].Threshold : roc[k - 1].Threshold + a * (roc[k].Threshold - roc[k - 1].Threshold);
            return (roc[k - 1].FalseAcceptRate + a * (roc[k].FalseAcceptRate - roc[k - 1].FalseAcceptRate), threshold);
        }
        throw new ArgumentException("Verification: the ROC never reaches its equal error rate (it must end at FAR = 1)");
    }

    /// <summary>The best true accept rate at a false accept rate of at most <paramref name="far"/>, with its threshold.</summary>
    public static (double Rate, double Threshold) TrueAcceptRateAt(IReadOnlyList<RocPoint> roc, double far)
    {
        var best = roc.Where(p => p.FalseAcceptRate <= far).MaxBy(p => p.TrueAcceptRate);
        return (best.TrueAcceptRate, best.Threshold);
    }

    /// <summary>
    /// Top-1 identification: the share of <paramref name="embeddings"/> [N, D] (L2-normalised rows) whose most similar
    /// other row (by cosine) has the same label: leave-one-out nearest neighbour, every sample a probe against the rest.
    /// </summary>
    public static double NearestNeighbourAccuracy(float[] embeddings, int dimension, IReadOnlyList<int> labels) =>
        NearestNeighbourAccuracy(new PairScores(embeddings, dimension), labels);

    /// <summary>For each row of <paramref name="embeddings"/> [N, D] (N ≥ 2), the most similar other row by dot product (cosine, for unit rows) and that similarity.</summary>
    public static (int Index, double Similarity)[] NearestNeighbours(float[] embeddings, int dimension) => NearestNeighbours(new PairScores(embeddings, dimension));

    /// <summary>For each embedding of <paramref name="scores"/> (two or more), the other with the highest score and that score.</summary>
    public static (int Index, double Similarity)[] NearestNeighbours(PairScores scores)
    {
        int n = scores.Count;
        var result = new (int, double)[n];
        for (int i = 0; i < n; i++)
        {
            int best = -1;
            double bestScore = double.NegativeInfinity;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double s = scores[i, j];
                if (s > bestScore) (best, bestScore) = (j, s);
            }
            result[i] = (best, bestScore);
        }
        return result;
    }

    /// <summary>Top-1 identification (as <see cref="NearestNeighbourAccuracy(float[], int, IReadOnlyList{int})"/>) under any pair score.</summary>
    public static double NearestNeighbourAccuracy(PairScores scores, IReadOnlyList<int> labels)
    {
        if (scores.Count != labels.Count) throw new ArgumentException($"Verification: {scores.Count} embeddings but {labels.Count} labels");
        var nearest = NearestNeighbours(scores);
        return Enumerable.Range(0, labels.Count).Count(i => labels[nearest[i].Index] == labels[i]) / (double)labels.Count;
    }
}

/// <summary>
/// The score of a pair of rows of one set of L2-normalised embeddings [N, D]: their cosine, or with a cohort
/// (<see cref="CohortNormalization"/>) the cosine normalised by both sides' cohort statistics, or the overlap of their
/// cohort neighbours (<see cref="NeighbourOverlap"/>).
/// </summary>
public sealed class PairScores
{
    private readonly float[] _embeddings;
    private readonly (double Mean, double Std)[]? _statistics;
    private readonly int[][]? _neighbours;

    public PairScores(float[] embeddings, int dimension, NeighbourOverlap overlap) : this(embeddings, dimension)
    {
        if (overlap.Dimension != dimension) throw new ArgumentException($"Verification: embeddings of {dimension} against a cohort of {overlap.Dimension}");
        _neighbours = overlap.Neighbours(embeddings);
    }

    public PairScores(float[] embeddings, int dimension, CohortNormalization? normalization = null)
    {
        int n = embeddings.Length / Math.Max(1, dimension);
        if (dimension < 1 || embeddings.Length != n * dimension || n < 2) throw new ArgumentException($"Verification: {embeddings.Length} values are not two or more embeddings of {dimension}");
        if (normalization is not null && normalization.Dimension != dimension)
            throw new ArgumentException($"Verification: embeddings of {dimension} against a cohort of {normalization.Dimension}");
        (_embeddings, Dimension, Count) = (embeddings, dimension, n);
        _statistics = normalization?.Statistics(embeddings);
    }

    public int Dimension { get; }

    public int Count { get; }

    public double Cosine(int i, int j) => System.Numerics.Tensors.TensorPrimitives.Dot(_embeddings.AsSpan(i * Dimension, Dimension), _embeddings.AsSpan(j * Dimension, Dimension));

    public double this[int i, int j] =>
        _neighbours is not null ? NeighbourOverlap.Score(_neighbours[i], _neighbours[j], Cosine(i, j))
        : _statistics is null ? Cosine(i, j) : CohortNormalization.Score(Cosine(i, j), _statistics[i], _statistics[j]);
}
