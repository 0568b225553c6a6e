namespace Loom.Train;

/// <summary>Turns a batch of classifier outputs and targets into plain arrays, validating shapes once for every metric.</summary>
internal static class ClassificationBatch
{
    /// <summary>Scores [N, C] (row-major) and labels [N] from logits/probabilities [N, C] and Int targets [N].</summary>
    public static (double[] Scores, int Classes, long[] Labels) Read(Tensor predictions, Tensor targets, string metric)
    {
        if (predictions.Rank != 2)
            throw new ArgumentException($"{metric}: predictions must be [N, C] scores, got shape {predictions.Shape}");
        if (targets.Rank != 1 || targets.Shape[0] != predictions.Shape[0])
            throw new ArgumentException($"{metric}: targets must be [N] class indices matching predictions {predictions.Shape}, got shape {targets.Shape}");
        int c = predictions.Shape[1];
        var labels = targets.ToArray<long>();
        foreach (var l in labels)
            if (l < 0 || l >= c) throw new ArgumentException($"{metric}: target class {l} is outside [0, {c})");
        return (predictions.ToArray<double>(), c, labels);
    }

    /// <summary>Index of the largest score in each row (first on ties).</summary>
    public static int[] ArgMax(double[] scores, int classes)
    {
        int n = classes == 0 ? 0 : scores.Length / classes;
        var result = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int j = 1; j < classes; j++)
                if (scores[i * classes + j] > scores[i * classes + best]) best = j;
            result[i] = best;
        }
        return result;
    }
}
