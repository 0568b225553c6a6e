namespace Loom.Compress.Tests.Measurement;

public class MultiplyAddsTests
{
    [Fact]
    public void Counts_convolutions_and_linear_layers_at_the_sizes_they_see()
    {
        // The zoo's small CNN on 28×28: conv 1→32 at 28×28, conv 32→64 at 14×14 (3×3 each), 3136→128, 128→10.
        var model = new Sequential(
            new Conv2d(1, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(64 * 7 * 7, 128), new ReLU(), new Linear(128, 10));
        model.Eval();
        long expected = 28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 128 + 128 * 10;
        Assert.Equal(expected, MultiplyAdds.PerSample(model, Tensor.Zeros(new Shape(3, 1, 28, 28))));
        // Grouped, strided, unpadded: 4 output channels × 3×3 positions × (6 / 2 input channels × 2×2 kernel).
        Assert.Equal(4 * 3 * 3 * 3 * 2 * 2, MultiplyAdds.PerSample(new Conv2d(6, 4, 2, stride: 2, groups: 2), Tensor.Zeros(new Shape(2, 6, 7, 7))));
        // Hooks are removed: counting twice gives the same answer, not double.
        Assert.Equal(expected, MultiplyAdds.PerSample(model, Tensor.Zeros(new Shape(1, 1, 28, 28))));
    }

    [Fact]
    public void Structured_pruning_of_half_the_channels_leaves_about_a_quarter_of_the_inner_convolution()
    {
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(),
            new Conv2d(8, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(),
            new Flatten(), new Linear(8 * 6 * 6, 4));
        model.Eval();
        var x = Tensor.Zeros(new Shape(1, 1, 6, 6));
        StructuredPruning.Prune(model, 0.5);
        Assert.Equal(36 * 4 * 9 + 36 * 4 * 4 * 9 + 4 * 6 * 6 * 4, MultiplyAdds.PerSample(model, x));
    }
}
