namespace Loom.Explain.Tests;

/// <summary>Adebayo et al. (2018) in a quick setting: small networks trained for a few seconds on 1,000 digits.</summary>
public sealed class SanityCheckTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly Lazy<(Tensor X, Tensor Y, Tensor TestX)> Data = new(() =>
    {
        var split = Digits.Load();
        return (split.Train.Inputs.Narrow(0, 0, 1000), split.Train.Targets.Narrow(0, 0, 1000), split.Test.Inputs.Narrow(0, 0, 64));
    });

    private static Sequential Train(Tensor x, Tensor y, ulong seed, int epochs = 60)
    {
        var generator = new Generator(seed);
        var model = new Sequential(new Flatten(), new Linear(784, 64, generator: generator), new ReLU(), new Linear(64, 64, generator: generator), new ReLU(), new Linear(64, 10, generator: generator));
        var optimizer = new Adam(model.Parameters(), learningRate: 3e-3);
        for (int epoch = 0; epoch < epochs; epoch++)
            for (int start = 0; start < x.Shape[0]; start += 250)
            {
                optimizer.ZeroGrad();
                Functional.CrossEntropy(model.Forward(x.Narrow(0, start, 250)), y.Narrow(0, start, 250)).Backward();
                optimizer.Step();
            }
        model.Eval();
        return model;
    }

    private static Tensor Saliency(Module<Tensor, Tensor> model, Tensor x, Tensor targets) => new Saliency(model).Attribute(x, targets);

    private static Tensor Predicted(Module<Tensor, Tensor> model, Tensor x)
    {
        using var noGrad = new Loom.Autograd.NoGrad();
        return model.Forward(x).ArgMax(1);
    }

    [Fact]
    public void Saliency_maps_decorrelate_as_layers_are_randomised_from_the_top()
    {
        var (x, y, testX) = Data.Value;
        var model = Train(x, y, seed: 1);
        var targets = Predicted(model, testX);
        var before = Saliency(model, testX, targets);
        var steps = SanityChecks.CascadingRandomization(model, Saliency, testX, targets, seed: 2);
        output.WriteLine(string.Join("; ", steps.Select(s => $"{s.Layer}: {s.Similarity:F3}")));
        Assert.Equal(["5", "3", "1"], steps.Select(s => s.Layer));
        Assert.True(steps[^1].Similarity < 0.3, $"with every layer random the maps still correlate {steps[^1].Similarity:F3}");
        Assert.True(steps[^1].Similarity < steps[0].Similarity, "randomising more layers should move the maps further");
        // The trained weights are back.
        Assert.Equal(1, SanityChecks.MapSimilarity(before, Saliency(model, testX, targets)), 12);
    }

    [Fact]
    public void Saliency_maps_of_a_model_trained_on_random_labels_differ_from_the_trained_models()
    {
        var (x, y, testX) = Data.Value;
        var first = Train(x, y, seed: 1);
        var second = Train(x, y, seed: 3);
        var shuffled = y.IndexSelect(0, Tensor.FromArray(new Generator(4).Permutation(y.Shape[0]).Select(i => (long)i).ToArray()));
        var random = Train(x, shuffled, seed: 1);
        var targets = Predicted(first, testX);
        var reference = Saliency(first, testX, targets);
        double sameLabels = SanityChecks.MapSimilarity(reference, Saliency(second, testX, targets));
        double randomLabels = SanityChecks.MapSimilarity(reference, Saliency(random, testX, targets));
        output.WriteLine($"true labels, other seed: {sameLabels:F3}; random labels: {randomLabels:F3}");
        Assert.True(randomLabels < sameLabels - 0.1, $"rank correlation with a random-label model {randomLabels:F3}, with another true-label model {sameLabels:F3}");
    }
}
