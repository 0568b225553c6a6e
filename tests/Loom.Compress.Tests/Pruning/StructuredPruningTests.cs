namespace Loom.Compress.Tests.Pruning;

public class StructuredPruningTests
{
    [Fact]
    public void Removing_zero_importance_neurons_leaves_the_outputs_unchanged_and_shrinks_the_layers()
    {
        Generator.ManualSeed(1);
        var model = new Sequential(new Linear(6, 8), new ReLU(), new Linear(8, 5), new Tanh(), new Linear(5, 3));
        using (new NoGrad())
        {
            var first = ((Linear)model[0]).Weight.AsSpan<float>();
            var bias = ((Linear)model[0]).Bias!.AsSpan<float>();
            foreach (int u in new[] { 1, 4, 6, 7 }) { first.Slice(u * 6, 6).Clear(); bias[u] = u == 4 ? 0.7f : -0.2f; } // 4: ReLU passes a constant 0.7
            var second = ((Linear)model[2]).Weight.AsSpan<float>();
            foreach (int u in new[] { 0, 2, 3 }) second.Slice(u * 8, 8).Clear(); // tanh(bias) reaches the last layer as a constant
        }
        model.Eval();
        var x = Tensor.Uniform(new Shape(4, 6), -2, 2, new Generator(2));
        float[] before;
        using (new NoGrad()) before = model.Forward(x).ToArray<float>();

        var pruned = StructuredPruning.Prune(model, 0.5);
        Assert.Equal([new PrunedUnits("0", 8, 4), new PrunedUnits("2", 5, 2)], pruned.ToArray()); // round(2.5) = 2
        Assert.Equal(new Shape(4, 6), ((Linear)model[0]).Weight.Shape);
        Assert.Equal(new Shape(2, 4), ((Linear)model[2]).Weight.Shape);
        Assert.Equal(new Shape(3, 2), ((Linear)model[4]).Weight.Shape);
        float[] after;
        using (new NoGrad()) after = model.Forward(x).ToArray<float>();
        TensorAssert.Close(before, after, 1e-5, 1e-5, "pruned MLP ");
    }

    [Fact]
    public void Conv_channels_are_cut_through_batch_norm_pooling_and_flatten()
    {
        Generator.ManualSeed(3);
        var model = new Sequential(
            new Conv2d(2, 6, 3, padding: 1), new BatchNorm2d(6), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(),
            new Flatten(), new Linear(4 * 2 * 2, 3));
        using (new NoGrad())
        {
            // Running statistics that are not the defaults, so slicing them matters.
            foreach (var bn in new[] { (BatchNorm2d)model[1], (BatchNorm2d)model[5] })
            {
                var mean = bn.RunningMean!.AsSpan<float>(); var variance = bn.RunningVar!.AsSpan<float>();
                for (int c = 0; c < mean.Length; c++) { mean[c] = 0.1f * c; variance[c] = 1 + 0.2f * c; }
            }
            // Channels 2 and 5 of the first block and 1, 3 of the second: γ = 0, β < 0, so ReLU outputs 0 whatever the input.
            foreach (var (bn, channels) in new[] { ((BatchNorm2d)model[1], new[] { 2, 5 }), ((BatchNorm2d)model[5], new[] { 1, 3 }) })
                foreach (int c in channels) { bn.Weight!.AsSpan<float>()[c] = 0; bn.Bias!.AsSpan<float>()[c] = -0.5f; }
        }
        model.Eval();
        var x = Tensor.Uniform(new Shape(3, 2, 4, 4), -1, 1, new Generator(4));
        float[] before;
        using (new NoGrad()) before = model.Forward(x).ToArray<float>();
        StructuredPruning.Prune(model, 1.0 / 3);
        Assert.Equal(new Shape(4, 2, 3, 3), ((Conv2d)model[0]).Weight.Shape);
        Assert.Equal(4, ((BatchNorm2d)model[1]).NumFeatures);
        Assert.Equal(new Shape(3, 4, 3, 3), ((Conv2d)model[4]).Weight.Shape);
        Assert.Equal(new Shape(3, 3 * 2 * 2), ((Linear)model[8]).Weight.Shape); // round(4 · 2/3) = 3 channels of 2×2
        float[] after;
        using (new NoGrad()) after = model.Forward(x).ToArray<float>();
        // Channel 1 or 3 of the second block goes (3 of 4 are kept): both are zero-importance, so nothing changes.
        TensorAssert.Close(before, after, 1e-5, 1e-5, "pruned CNN ");
    }
}
