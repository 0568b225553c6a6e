namespace Loom.Compress.Tests.Clustering;

public class WeightClusteringTests
{
    [Fact]
    public void KMeans_finds_well_separated_clusters_and_their_means()
    {
        // Three tight groups around −1, 0.5 and 2: three centroids must land on the groups' means exactly.
        float[] values = [-1.02f, -0.98f, -1f, 0.49f, 0.51f, 2f, 2.1f, 1.9f];
        var (codebook, indices) = WeightClustering.KMeans(values, 3);
        Assert.Equal(new[] { -1f, 0.5f, 2f }, codebook.Select(c => MathF.Round(c, 5)));
        Assert.Equal(new byte[] { 0, 0, 0, 1, 1, 2, 2, 2 }, indices);
        // Fewer distinct values than centroids: exact, one centroid each.
        var (exact, at) = WeightClustering.KMeans([3f, -1f, 3f], 16);
        Assert.Equal(new[] { -1f, 3f }, exact);
        Assert.Equal(new byte[] { 1, 0, 1 }, at);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(256)]
    public void Clustered_weights_stay_within_the_stated_error_and_round_trip_through_the_codebook_format(int k)
    {
        var g = new Generator(7);
        var model = new Sequential(new Linear(300, 200, generator: g), new ReLU(), new Linear(200, 10, generator: g));
        var original = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());
        var layers = WeightClustering.Cluster(model, k);
        Assert.Equal(["0.weight", "2.weight"], layers.Select(l => l.Name));
        foreach (var layer in layers)
        {
            var before = original[layer.Name];
            var after = model.StateDict()[layer.Name].ToArray<float>();
            Assert.True(after.Distinct().Count() <= k);
            // Every weight moved to its nearest centroid, at most half the widest gap between neighbours, and the whole
            // layer's error is within a uniform quantiser's over the same range with k levels: range / (k − 1) / √12.
            // k-means can only do better than evenly spaced levels (it starts from them and each step lowers the error).
            double range = before.Max() - before.Min();
            double uniformRms = range / (k - 1) / Math.Sqrt(12);
            Assert.True(layer.RootMeanSquareError <= uniformRms * 1.01, $"{layer.Name}: rms {layer.RootMeanSquareError} > uniform {uniformRms}");
            double measured = Math.Sqrt(before.Zip(after, (a, b) => (double)(a - b) * (a - b)).Average());
            Assert.Equal(measured, layer.RootMeanSquareError, 9);
        }
        // Biases are not clustered.
        Assert.Equal(original["0.bias"], model.StateDict()["0.bias"].ToArray<float>());

        var encoded = WeightClustering.Encode(model.StateDict(), layers.Select(l => l.Name));
        var indices = encoded["0.weight" + WeightClustering.IndicesSuffix];
        Assert.Equal(DType.UInt8, indices.DType);
        Assert.Equal(k <= 16 ? 300 * 200 / 2 : 300 * 200, indices.Shape[0]);
        Assert.True(WeightClustering.IsClustered(encoded));
        var decoded = WeightClustering.Decode(encoded, model, "m.safetensors");
        foreach (var (name, tensor) in model.StateDict()) Assert.Equal(tensor.ToArray<float>(), decoded[name].ToArray<float>());
    }

    [Fact]
    public void Damaged_codebook_checkpoints_are_refused_naming_the_tensor()
    {
        var model = new Sequential(new Linear(3, 2, generator: new Generator(1)));
        WeightClustering.Cluster(model, 4);
        var encoded = WeightClustering.Encode(model.StateDict(), ["0.weight"]);
        var bad = new Dictionary<string, Tensor>(encoded) { ["0.weight_indices"] = Tensor.FromArray(new byte[] { 0xFF, 0xFF, 0xFF }) };
        var e = Assert.Throws<InvalidDataException>(() => WeightClustering.Decode(bad, model, "m.safetensors"));
        Assert.Contains("m.safetensors: 0.weight_indices[0] points at centroid 15 of", e.Message);
        bad["0.weight_indices"] = Tensor.FromArray(new byte[] { 0 });
        Assert.Contains("needs 1–256 centroids and 3 bytes", Assert.Throws<InvalidDataException>(() => WeightClustering.Decode(bad, model, "m.safetensors")).Message);
        bad.Remove("0.weight_indices");
        Assert.Contains("0.weight_codebook has no 0.weight_indices", Assert.Throws<InvalidDataException>(() => WeightClustering.Decode(bad, model, "m.safetensors")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightClustering.Cluster(model, 257));
    }
}
