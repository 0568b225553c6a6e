using System.Numerics.Tensors;

namespace Loom.Models;

/// <summary>
/// Adaptive symmetric score normalisation (AS-norm, as speaker verification calibrates cosine scores: Cumani et al.
/// 2011, Matějka et al. 2017). Each side of a pair is compared with a cohort of embeddings of the training
/// identities; the mean μ and standard deviation σ of its <see cref="Top"/> highest cosines to the cohort say how
/// alike that image is to everything, and the pair's cosine s is read against both sides:
/// s′ = ((s − μ_a)/σ_a + (s − μ_b)/σ_b) / 2.
/// </summary>
/// <remarks>
/// Why: an embedding trained on a few identities puts an unseen identity in a narrow cone near the trained identity
/// it resembles, so its images are all alike to one another and to that cohort; another unseen identity sits in a
/// wider region. One global cosine threshold then accepts the first's different pairs and rejects the second's same
/// pairs. Measured against the cohort, a cosine counts by how far it stands out from what that image scores against
/// anyone, which is comparable across regions. The top-K (adaptive) cohort compares each image only with the
/// training images near it; K equal to the cohort's size is plain S-norm.
/// </remarks>
public sealed class CohortNormalization
{
    public CohortNormalization(float[] cohort, int dimension, int top)
    {
        if (dimension < 1 || cohort.Length == 0 || cohort.Length % dimension != 0)
            throw new ArgumentException($"CohortNormalization: {cohort.Length} values are not a cohort of embeddings of {dimension}");
        int size = cohort.Length / dimension;
        if (top < 2 || top > size) throw new ArgumentException($"CohortNormalization: the top K must be between 2 and the cohort's {size} embeddings, got {top}");
        (Cohort, Dimension, Top) = (cohort, dimension, top);
    }

    /// <summary>The cohort's L2-normalised embeddings, [M, D] row by row.</summary>
    public float[] Cohort { get; }

    public int Dimension { get; }

    /// <summary>How many of the most similar cohort embeddings give each side's mean and standard deviation.</summary>
    public int Top { get; }

    public int Size => Cohort.Length / Dimension;

    /// <summary>Per row of <paramref name="embeddings"/> [N, D]: the mean and (population) standard deviation of its <see cref="Top"/> highest cosines to the cohort.</summary>
    public (double Mean, double Std)[] Statistics(float[] embeddings)
    {
        int n = embeddings.Length / Dimension;
        if (embeddings.Length != n * Dimension) throw new ArgumentException($"CohortNormalization: {embeddings.Length} values are not embeddings of {Dimension}");
        var result = new (double, double)[n];
        var cosines = new float[Size];
        for (int i = 0; i < n; i++)
        {
            var e = embeddings.AsSpan(i * Dimension, Dimension);
            for (int m = 0; m < cosines.Length; m++) cosines[m] = TensorPrimitives.Dot(e, Cohort.AsSpan(m * Dimension, Dimension));
            // Descending: the K most similar first.
            cosines.AsSpan().Sort((a, b) => b.CompareTo(a));
            double mean = 0;
            for (int k = 0; k < Top; k++) mean += cosines[k];
            mean /= Top;
            double variance = 0;
            for (int k = 0; k < Top; k++) variance += (cosines[k] - mean) * (cosines[k] - mean);
            result[i] = (mean, Math.Sqrt(variance / Top));
        }
        return result;
    }

    /// <summary>The normalised score of a cosine <paramref name="cosine"/> between two sides with cohort statistics <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static double Score(double cosine, (double Mean, double Std) a, (double Mean, double Std) b) =>
        // A floor on σ: a side whose K nearest cohort cosines are all equal would otherwise divide by zero.
        ((cosine - a.Mean) / Math.Max(a.Std, 1e-6) + (cosine - b.Mean) / Math.Max(b.Std, 1e-6)) / 2;
}
