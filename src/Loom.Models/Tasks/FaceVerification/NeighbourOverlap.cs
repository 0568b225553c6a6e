using System.Numerics.Tensors;

namespace Loom.Models;

/// <summary>
/// A pair score from shared neighbours (the Jaccard distance of k-reciprocal re-ranking, Zhong et al. 2017, without
/// its reciprocity and expansion steps): each side's <see cref="Top"/> most similar cohort embeddings form a set, and
/// the pair scores |A ∩ B| / |A ∪ B|, plus <see cref="CosineTieBreak"/> times its cosine so that pairs sharing no
/// neighbour are still ordered. With a cohort of unlabelled images of the population verified, two images of one
/// identity share neighbours even where that identity is spread wide, and two of different identities share few even
/// where their cones are close, which one cosine threshold cannot tell apart.
/// </summary>
public sealed class NeighbourOverlap
{
    /// <summary>The weight of the cosine in the score: small enough never to outweigh one shared neighbour (1/(2K) ≥ 1/8,000 for K ≤ 4,000).</summary>
    public const double CosineTieBreak = 1e-5;

    public NeighbourOverlap(float[] cohort, int dimension, int top)
    {
        if (dimension < 1 || cohort.Length == 0 || cohort.Length % dimension != 0)
            throw new ArgumentException($"NeighbourOverlap: {cohort.Length} values are not a cohort of embeddings of {dimension}");
        int size = cohort.Length / dimension;
        if (top < 1 || top > Math.Min(size, 4000)) throw new ArgumentException($"NeighbourOverlap: the top K must be between 1 and the cohort's {Math.Min(size, 4000)} embeddings, got {top}");
        (Cohort, Dimension, Top) = (cohort, dimension, top);
    }

    /// <summary>The cohort's L2-normalised embeddings, [M, D] row by row.</summary>
    public float[] Cohort { get; }

    public int Dimension { get; }

    /// <summary>How many of the most similar cohort embeddings make each side's neighbour set.</summary>
    public int Top { get; }

    public int Size => Cohort.Length / Dimension;

    /// <summary>Per row of <paramref name="embeddings"/> [N, D]: the cohort indices of its <see cref="Top"/> highest cosines, ascending (ties: the lower index).</summary>
    public int[][] Neighbours(float[] embeddings)
    {
        int n = embeddings.Length / Dimension;
        if (embeddings.Length != n * Dimension) throw new ArgumentException($"NeighbourOverlap: {embeddings.Length} values are not embeddings of {Dimension}");
        var result = new int[n][];
        var cosines = new float[Size];
        var order = new int[Size];
        for (int i = 0; i < n; i++)
        {
            var e = embeddings.AsSpan(i * Dimension, Dimension);
            for (int m = 0; m < cosines.Length; m++) (cosines[m], order[m]) = (TensorPrimitives.Dot(e, Cohort.AsSpan(m * Dimension, Dimension)), m);
            Array.Sort(order, (a, b) => cosines[b].CompareTo(cosines[a]) is var c && c != 0 ? c : a.CompareTo(b));
            result[i] = [.. order.AsSpan(0, Top).ToArray().Order()];
        }
        return result;
    }

    /// <summary>The score of a pair whose sides have neighbour sets <paramref name="a"/> and <paramref name="b"/> (ascending) and cosine <paramref name="cosine"/>.</summary>
    public static double Score(int[] a, int[] b, double cosine)
    {
        int shared = 0;
        for (int i = 0, j = 0; i < a.Length && j < b.Length;)
        {
            if (a[i] == b[j]) (shared, i, j) = (shared + 1, i + 1, j + 1);
            else if (a[i] < b[j]) i++;
            else j++;
        }
        return (double)shared / (a.Length + b.Length - shared) + CosineTieBreak * cosine;
    }
}
