namespace Loom.Compress;

/// <summary>One layer's clustered weights: what the layer's values were replaced by and how far they moved.</summary>
/// <param name="Name">The weight's state-dict name.</param>
/// <param name="Count">Number of weights.</param>
/// <param name="Centroids">Codebook size used (at most the number of distinct values).</param>
/// <param name="RootMeanSquareError">√(mean (w − centroid(w))²) over the layer.</param>
/// <param name="MaxError">Largest |w − centroid(w)|.</param>
public sealed record ClusteredLayer(string Name, long Count, int Centroids, double RootMeanSquareError, double MaxError);

/// <summary>
/// Weight sharing by k-means (Han, Mao and Dally 2016, "Deep Compression"): each weight matrix's values are grouped into
/// at most 16 or 256 clusters and replaced by their cluster's mean, so the layer is stored as a codebook of floats
/// plus one 4-bit or 8-bit index per weight — about 8× or 4× smaller than float32 — and runs as an ordinary float layer
/// once the indices are looked up at load.
/// </summary>
/// <remarks>
/// One-dimensional k-means: every cluster is a run of the sorted values, so Lloyd's iterations work on the sorted
/// array with prefix sums (O(k log n) per iteration after one sort). Centroids start evenly spaced between the smallest
/// and largest weight, the initialisation Deep Compression found best: it keeps centroids on the rare large weights,
/// which matter most, where density-based starts crowd them near zero. Weights of rank ≥ 2 are clustered (as pruning
/// prunes them); biases and normalisation parameters stay float.
/// </remarks>
public static class WeightClustering
{
    /// <summary>Suffix of a clustered weight's codebook in a state dict (float32 [k]).</summary>
    public const string CodebookSuffix = "_codebook";

    /// <summary>Suffix of a clustered weight's indices (uint8: one per weight for k &gt; 16, two per byte, low nibble first, for k ≤ 16).</summary>
    public const string IndicesSuffix = "_indices";

    /// <summary>Replaces every weight of rank ≥ 2 of <paramref name="model"/> by its k-means centroid, in place.</summary>
    public static IReadOnlyList<ClusteredLayer> Cluster(Module model, int centroids, int iterations = 50)
    {
        CheckCentroids(centroids);
        var layers = new List<ClusteredLayer>();
        using var noGrad = new NoGrad();
        foreach (var (name, p) in model.NamedParameters())
        {
            if (p.Rank < 2) continue;
            var values = p.ToArray<float>();
            var (codebook, indices) = KMeans(values, centroids, iterations);
            double sum = 0, max = 0;
            for (int i = 0; i < values.Length; i++)
            {
                double e = values[i] - codebook[indices[i]];
                sum += e * e;
                max = Math.Max(max, Math.Abs(e));
                values[i] = codebook[indices[i]];
            }
            p.CopyFrom(Tensor.FromArray(values, p.Shape.ToArray()).To(p.DType));
            layers.Add(new ClusteredLayer(name, values.Length, codebook.Length, Math.Sqrt(sum / Math.Max(1, values.Length)), max));
        }
        return layers;
    }

    /// <summary>
    /// k-means of <paramref name="values"/> into at most <paramref name="centroids"/> clusters: the codebook (ascending)
    /// and each value's index into it. Fewer distinct values than centroids give one centroid per value (exact).
    /// </summary>
    public static (float[] Codebook, byte[] Indices) KMeans(ReadOnlySpan<float> values, int centroids, int iterations = 50)
    {
        CheckCentroids(centroids);
        if (values.Length == 0) return ([], []);
        foreach (var v in values)
            if (!float.IsFinite(v)) throw new ArgumentException($"weight clustering: a weight is {v}; cluster a model with finite weights");
        var sorted = values.ToArray();
        Array.Sort(sorted);
        var distinct = sorted.Distinct().ToArray();
        double[] c;
        if (distinct.Length <= centroids)
        {
            c = distinct.Select(v => (double)v).ToArray();
        }
        else
        {
            var prefix = new double[sorted.Length + 1];
            for (int i = 0; i < sorted.Length; i++) prefix[i + 1] = prefix[i] + sorted[i];
            double lo = sorted[0], hi = sorted[^1];
            c = Enumerable.Range(0, centroids).Select(j => lo + (hi - lo) * j / (centroids - 1)).ToArray();
            var bounds = new int[centroids + 1];
            for (int it = 0; it < iterations; it++)
            {
                // Cluster j holds sorted[bounds[j] .. bounds[j+1]): the values nearer c[j] than its neighbours.
                bounds[0] = 0;
                bounds[centroids] = sorted.Length;
                for (int j = 1; j < centroids; j++) bounds[j] = LowerBound(sorted, (c[j - 1] + c[j]) / 2);
                bool moved = false;
                for (int j = 0; j < centroids; j++)
                {
                    int a = bounds[j], b = bounds[j + 1];
                    if (b <= a) continue; // an empty cluster keeps its place
                    double mean = (prefix[b] - prefix[a]) / (b - a);
                    moved |= mean != c[j];
                    c[j] = mean;
                }
                if (!moved) break;
            }
            // Drop empty clusters (their centroids index nothing), so the codebook holds only used values.
            var used = new List<double>();
            for (int j = 0; j < centroids; j++)
            {
                int a = j == 0 ? 0 : LowerBound(sorted, (c[j - 1] + c[j]) / 2);
                int b = j == centroids - 1 ? sorted.Length : LowerBound(sorted, (c[j] + c[j + 1]) / 2);
                if (b > a) used.Add(c[j]);
            }
            c = [.. used];
        }
        var codebook = c.Select(v => (float)v).ToArray();
        var indices = new byte[values.Length];
        for (int i = 0; i < values.Length; i++) indices[i] = (byte)Nearest(codebook, values[i]);
        return (codebook, indices);
    }

    /// <summary>
    /// The state dict with every weight of rank ≥ 2 stored as codebook + indices (see <see cref="CodebookSuffix"/>) and
    /// everything else as it is: what a clustered run saves. The weights must already be clustered
    /// (<see cref="Cluster"/>): a layer with more distinct values than 256 is refused rather than rounded silently.
    /// </summary>
    public static Dictionary<string, Tensor> Encode(IReadOnlyDictionary<string, Tensor> state, IEnumerable<string> clustered)
    {
        var names = clustered.ToHashSet();
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in state)
        {
            if (!names.Contains(name))
            {
                result[name] = tensor;
                continue;
            }
            var values = tensor.ToArray<float>();
            var codebook = values.Distinct().Order().ToArray();
            if (codebook.Length > 256) throw new ArgumentException($"weight clustering: {name} has {codebook.Length} distinct values; cluster it first (at most 256)");
            var index = new Dictionary<float, int>();
            for (int j = 0; j < codebook.Length; j++) index[codebook[j]] = j;
            byte[] indices;
            if (codebook.Length <= 16)
            {
                indices = new byte[(values.Length + 1) / 2];
                for (int i = 0; i < values.Length; i++) indices[i / 2] |= (byte)(index[values[i]] << (4 * (i % 2)));
            }
            else
            {
                indices = values.Select(v => (byte)index[v]).ToArray();
            }
            result[name + CodebookSuffix] = Tensor.FromArray(codebook);
            result[name + IndicesSuffix] = Tensor.FromArray(indices);
        }
        return result;
    }

    /// <summary>
    /// The float state dict of a clustered checkpoint: each codebook + indices pair looked up into a weight of the shape
    /// <paramref name="model"/> has under that name; other tensors pass through. Indices past the codebook, a pair
    /// missing its half or a count that does not fit the layer are refused naming <paramref name="file"/> and the tensor.
    /// </summary>
    public static Dictionary<string, Tensor> Decode(IReadOnlyDictionary<string, Tensor> saved, Module model, string file)
    {
        var shapes = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        var result = new Dictionary<string, Tensor>();
        foreach (var (key, tensor) in saved)
        {
            if (key.EndsWith(IndicesSuffix, StringComparison.Ordinal)) continue;
            if (!key.EndsWith(CodebookSuffix, StringComparison.Ordinal))
            {
                result[key] = tensor;
                continue;
            }
            string name = key[..^CodebookSuffix.Length];
            if (!saved.TryGetValue(name + IndicesSuffix, out var packed)) throw new InvalidDataException($"{file}: {key} has no {name + IndicesSuffix}");
            if (tensor.DType != DType.Float32 || tensor.Rank != 1) throw new InvalidDataException($"{file}: {key} must be a float32 vector, got {tensor.DType.Name()} {tensor.Shape}");
            if (packed.DType != DType.UInt8 || packed.Rank != 1) throw new InvalidDataException($"{file}: {name + IndicesSuffix} must be a uint8 vector, got {packed.DType.Name()} {packed.Shape}");
            if (!shapes.TryGetValue(name, out var shape)) throw new InvalidDataException($"{file}: {key} names no weight of this model");
            var codebook = tensor.ToArray<float>();
            var bytes = packed.ToArray<byte>();
            int n = shape.Numel;
            bool nibbles = codebook.Length <= 16;
            int expected = nibbles ? (n + 1) / 2 : n;
            if (codebook.Length is 0 or > 256 || bytes.Length != expected)
                throw new InvalidDataException($"{file}: {name} has {codebook.Length} centroids and {bytes.Length} index bytes; a {shape} weight needs 1–256 centroids and {expected} bytes");
            var values = new float[n];
            for (int i = 0; i < n; i++)
            {
                int j = nibbles ? (bytes[i / 2] >> (4 * (i % 2))) & 0xF : bytes[i];
                if (j >= codebook.Length) throw new InvalidDataException($"{file}: {name + IndicesSuffix}[{(nibbles ? i / 2 : i)}] points at centroid {j} of {codebook.Length}");
                values[i] = codebook[j];
            }
            result[name] = Tensor.FromArray(values, shape.ToArray());
        }
        foreach (var key in saved.Keys.Where(k => k.EndsWith(IndicesSuffix, StringComparison.Ordinal)))
            if (!saved.ContainsKey(key[..^IndicesSuffix.Length] + CodebookSuffix)) throw new InvalidDataException($"{file}: {key} has no {key[..^IndicesSuffix.Length] + CodebookSuffix}");
        return result;
    }

    /// <summary>Whether a saved state dict holds clustered weights.</summary>
    public static bool IsClustered(IReadOnlyDictionary<string, Tensor> saved) => saved.Keys.Any(k => k.EndsWith(CodebookSuffix, StringComparison.Ordinal));

    private static void CheckCentroids(int centroids)
    {
        if (centroids is < 2 or > 256) throw new ArgumentOutOfRangeException(nameof(centroids), centroids, "weight clustering: centroids must be in [2, 256] (indices are stored in 4 or 8 bits)");
    }

    private static int LowerBound(float[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static int Nearest(float[] codebook, float v)
    {
        int best = 0;
        for (int j = 1; j < codebook.Length; j++)
            if (Math.Abs(codebook[j] - v) < Math.Abs(codebook[best] - v)) best = j;
        return best;
    }
}
