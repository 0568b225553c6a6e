using System.Numerics.Tensors;
using Loom.Random;

namespace Loom.Models;

/// <summary>
/// Pseudo-identities for unsupervised adaptation: unlabelled images' L2-normalised embeddings clustered by spherical
/// k-means, with the number of clusters chosen without labels, by the mean silhouette (cosine distance). The clusters
/// then join training as identities (`--adapt-from RUN`), so the next network learns what separates the unseen
/// population's own groups instead of only what separated the training identities.
/// </summary>
public static class PseudoIdentities
{
    /// <summary>k-means restarts per k; the one with the highest total cosine to its centres is kept.</summary>
    public const int Restarts = 5;

    private const int Iterations = 50;

    /// <summary>
    /// The clustering of <paramref name="embeddings"/> [N, D] (unit rows) with the best mean silhouette over k =
    /// <paramref name="minClusters"/> … <paramref name="maxClusters"/>: the cluster of each row, k, and the mean
    /// silhouette of every k tried (index k − <paramref name="minClusters"/>).
    /// </summary>
    public static (int[] Assignment, int Clusters, double[] Silhouettes) Cluster(float[] embeddings, int dimension, int maxClusters, ulong seed, int minClusters = 2)
    {
        int n = embeddings.Length / dimension;
        if (dimension < 1 || n * dimension != embeddings.Length) throw new ArgumentException($"PseudoIdentities: {embeddings.Length} values are not embeddings of {dimension}");
        if (minClusters < 2 || maxClusters < minClusters || maxClusters > n - 1)
            throw new ArgumentException($"PseudoIdentities: clusters must be between 2 and {n - 1} for {n} images, got {minClusters} to {maxClusters}");
        var cosines = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                cosines[i * n + j] = TensorPrimitives.Dot(embeddings.AsSpan(i * dimension, dimension), embeddings.AsSpan(j * dimension, dimension));
        var silhouettes = new double[maxClusters - minClusters + 1];
        int[]? best = null;
        int bestK = 0;
        for (int k = minClusters; k <= maxClusters; k++)
        {
            var assignment = KMeans(embeddings, dimension, k, seed + (ulong)k);
            silhouettes[k - minClusters] = Silhouette(cosines, n, assignment, k);
            if (best is null || silhouettes[k - minClusters] > silhouettes[bestK - minClusters]) (best, bestK) = (assignment, k);
        }
        return (best!, bestK, silhouettes);
    }

    /// <summary>
    /// The rows to train on: per cluster, the <paramref name="fraction"/> (at least one row) whose cosine to their own
    /// centre most exceeds their cosine to the next centre, so the pseudo-labels the network learns are the clustering's
    /// surest and the rows between clusters, where its mistakes are, are left out.
    /// </summary>
    public static int[] Confident(float[] embeddings, int dimension, int[] assignment, int clusters, double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentException($"PseudoIdentities: the fraction kept must be in (0, 1], got {fraction}");
        var centres = new float[clusters * dimension];
        Centres(embeddings, dimension, assignment, centres);
        int n = assignment.Length;
        var margin = new double[n];
        for (int i = 0; i < n; i++)
        {
            var e = embeddings.AsSpan(i * dimension, dimension);
            float own = TensorPrimitives.Dot(e, centres.AsSpan(assignment[i] * dimension, dimension)), other = float.NegativeInfinity;
            for (int c = 0; c < clusters; c++)
                if (c != assignment[i]) other = Math.Max(other, TensorPrimitives.Dot(e, centres.AsSpan(c * dimension, dimension)));
            margin[i] = own - other;
        }
        return [.. Enumerable.Range(0, n).GroupBy(i => assignment[i])
            .SelectMany(g => g.OrderByDescending(i => margin[i]).ThenBy(i => i).Take(Math.Max(1, (int)Math.Round(fraction * g.Count()))))
            .Order()];
    }

    // The unit mean of each cluster's rows, written over `centres` [k, D]; a cluster whose rows sum to zero (none) stays zero.
    private static void Centres(float[] embeddings, int dimension, int[] assignment, float[] centres)
    {
        Array.Clear(centres);
        for (int i = 0; i < assignment.Length; i++)
            TensorPrimitives.Add(centres.AsSpan(assignment[i] * dimension, dimension), embeddings.AsSpan(i * dimension, dimension), centres.AsSpan(assignment[i] * dimension, dimension));
        for (int c = 0; c < centres.Length / dimension; c++)
        {
            var centre = centres.AsSpan(c * dimension, dimension);
            float norm = TensorPrimitives.Norm(centre);
            if (norm > 0) TensorPrimitives.Divide(centre, norm, centre);
        }
    }

    /// <summary>Spherical k-means (centres renormalised, assignment by highest cosine), best of <see cref="Restarts"/> seeded starts.</summary>
    public static int[] KMeans(float[] embeddings, int dimension, int k, ulong seed)
    {
        int n = embeddings.Length / dimension;
        var generator = new Generator(seed);
        int[]? best = null;
        double bestFit = double.NegativeInfinity;
        for (int restart = 0; restart < Restarts; restart++)
        {
            var centres = new float[k * dimension];
            // Distinct random rows as the first centres.
            var picked = new HashSet<int>();
            for (int c = 0; c < k; c++)
            {
                int row;
                do row = generator.NextInt(0, n); while (!picked.Add(row));
                embeddings.AsSpan(row * dimension, dimension).CopyTo(centres.AsSpan(c * dimension, dimension));
            }
            var assignment = new int[n];
            double fit = 0;
            for (int iteration = 0; iteration < Iterations; iteration++)
            {
                fit = 0;
                bool changed = false;
                for (int i = 0; i < n; i++)
                {
                    var e = embeddings.AsSpan(i * dimension, dimension);
                    int nearest = 0;
                    float similarity = float.NegativeInfinity;
                    for (int c = 0; c < k; c++)
                    {
                        float s = TensorPrimitives.Dot(e, centres.AsSpan(c * dimension, dimension));
                        if (s > similarity) (nearest, similarity) = (c, s);
                    }
                    changed |= iteration == 0 || assignment[i] != nearest;
                    assignment[i] = nearest;
                    fit += similarity;
                }
                if (!changed) break;
                Centres(embeddings, dimension, assignment, centres);
                // An emptied cluster restarts at a random row rather than vanishing: k stays k.
                for (int c = 0; c < k; c++)
                    if (TensorPrimitives.Norm(centres.AsSpan(c * dimension, dimension)) == 0)
                        embeddings.AsSpan(generator.NextInt(0, n) * dimension, dimension).CopyTo(centres.AsSpan(c * dimension, dimension));
            }
            if (fit > bestFit) (best, bestFit) = ((int[])assignment.Clone(), fit);
        }
        return best!;
    }

    /// <summary>
    /// Mean silhouette of a clustering under cosine distance 1 − cos (<paramref name="cosines"/> [N, N]): per row, (b − a)
    /// / max(a, b), a its mean distance to its own cluster's other rows, b the least mean distance to another cluster; 0
    /// for a row alone in its cluster.
    /// </summary>
    public static double Silhouette(float[] cosines, int n, int[] assignment, int clusters)
    {
        var sizes = new int[clusters];
        foreach (int c in assignment) sizes[c]++;
        var distance = new double[clusters];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            Array.Clear(distance);
            for (int j = 0; j < n; j++)
                if (j != i) distance[assignment[j]] += 1 - cosines[i * n + j];
            int own = assignment[i];
            if (sizes[own] < 2) continue;
            double a = distance[own] / (sizes[own] - 1), b = double.PositiveInfinity;
            for (int c = 0; c < clusters; c++)
                if (c != own && sizes[c] > 0) b = Math.Min(b, distance[c] / sizes[c]);
            if (double.IsFinite(b) && Math.Max(a, b) > 0) total += (b - a) / Math.Max(a, b);
        }
        return total / n;
    }
}
