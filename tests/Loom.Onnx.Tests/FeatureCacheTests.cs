using static Loom.Onnx.Tests.OnnxGraphBuilder;

namespace Loom.Onnx.Tests;

/// <summary>
/// A frozen imported network's features, cached per sample, give the head exactly the gradients that recomputing them
/// gives; the cache is used on repeated samples and forgets when the network's weights change.
/// </summary>
public class FeatureCacheTests
{
    private static OnnxModule TinyNetwork()
    {
        var g = new Loom.Random.Generator(31);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).Mul(0.5);
        var bytes = new OnnxGraphBuilder(13).Input("x", "N", 3, 6, 6).Initializer("w", R(4, 3, 3, 3)).Initializer("s", R(4)).Initializer("b", R(4))
            .Initializer("m", R(4)).Initializer("v", Tensor.Rand(new Shape(4), g).Add(0.5))
            .Node("Conv", ["x", "w"], ["c"], Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2))
            .Node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]).Node("Relu", ["n"], ["r"])
            .Node("GlobalAveragePool", ["r"], ["y"]).Output("y").Bytes();
        return OnnxModule.Load(bytes);
    }

    // Grayscale 5×5 samples, repeated to 3 channels, resized to 6×6, scaled and centred: every adaptation step runs.
    private static ImportedClassifier Classifier(bool cache)
    {
        var model = new ImportedClassifier(TinyNetwork(), [5, 5], [3, 6, 6], scale: 2, classes: 3, trainAll: false, mean: [0.1, 0.2, 0.3]) { CacheFeatures = cache };
        using (new NoGrad())
        {
            // Both heads start from the same weights.
            var g = new Loom.Random.Generator(5);
            foreach (var p in model.Head.Parameters()) p.CopyFrom(Tensor.Randn(p.Shape, g));
        }
        model.Train();
        return model;
    }

    private static Tensor[] HeadGradients(ImportedClassifier model, Tensor x, Tensor labels)
    {
        foreach (var p in model.Head.Parameters()) p.Grad = null;
        Functional.CrossEntropy(model.Forward(x), labels).Backward();
        return model.Head.Parameters().Select(p => p.Grad!).ToArray();
    }

    [Fact]
    public void Cached_features_give_the_head_the_same_gradients()
    {
        var cached = Classifier(cache: true);
        var uncached = Classifier(cache: false);
        var x = Tensor.Rand(new Shape(6, 5, 5), new Loom.Random.Generator(7));
        var labels = Tensor.FromArray(new long[] { 0, 1, 2, 0, 1, 2 }, 6);
        var expected = HeadGradients(uncached, x, labels);
        Assert.Equal(0, uncached.CachedSamples);
        // First pass fills the cache, the second (shuffled, with a repeat of sample 0) reads it.
        var first = HeadGradients(cached, x, labels);
        Assert.Equal(6, cached.CachedSamples);
        for (int i = 0; i < expected.Length; i++) TensorAssert.Close(expected[i], first[i], 1e-6, 1e-6);
        var order = Tensor.FromArray(new long[] { 5, 0, 3, 0, 1 }, 5);
        var shuffled = x.IndexSelect(0, order);
        var shuffledLabels = labels.IndexSelect(0, order);
        var again = HeadGradients(cached, shuffled, shuffledLabels);
        Assert.Equal(6, cached.CachedSamples);
        var reference = HeadGradients(uncached, shuffled, shuffledLabels);
        for (int i = 0; i < reference.Length; i++) TensorAssert.Close(reference[i], again[i], 1e-6, 1e-6);
        // The frozen network took no gradient.
        Assert.All(cached.Features.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void The_cache_forgets_when_the_network_changes()
    {
        var cached = Classifier(cache: true);
        var x = Tensor.Rand(new Shape(2, 5, 5), new Loom.Random.Generator(8));
        Tensor before;
        using (new NoGrad()) before = cached.Forward(x);
        using (new NoGrad())
            foreach (var p in cached.Features.Parameters()) p.CopyFrom(p.Mul(1.5));
        Tensor after, recomputed;
        using (new NoGrad()) after = cached.Forward(x);
        cached.CacheFeatures = false;
        using (new NoGrad()) recomputed = cached.Forward(x);
        Assert.False(before.AllClose(after, 1e-3, 1e-3));
        TensorAssert.Close(recomputed, after, 1e-6, 1e-6);
    }

    [Fact]
    public void The_channel_mean_is_subtracted_after_the_scale()
    {
        var model = new ImportedClassifier(TinyNetwork(), [3, 6, 6], [3, 6, 6], scale: 2, classes: 3, trainAll: false, mean: [0.1, 0.2, 0.3]);
        var x = Tensor.Rand(new Shape(2, 3, 6, 6), new Loom.Random.Generator(9));
        var centred = x.Mul(2).Sub(Tensor.FromArray(new float[] { 0.1f, 0.2f, 0.3f }, 1, 3, 1, 1));
        using (new NoGrad())
            TensorAssert.Close(model.Head.Forward(model.Features.Forward(centred).Reshape(2, -1)), model.Forward(x), 1e-6, 1e-6);
        Assert.Throws<ArgumentException>(() => new ImportedClassifier(TinyNetwork(), [3, 6, 6], [3, 6, 6], 1, 3, false, mean: [0.1, 0.2]));
    }
}
