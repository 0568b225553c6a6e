namespace Loom.Tests.Normalization;

[Collection(GlobalSettings.Name)]
public class BatchNormThreadsTests
{
    // [32, 8, 32, 32]: 256 rows of 1,024 elements, two ranges of 128 rows at two threads (the split starts at 128 Ki
    // elements per thread). Each row's sums are its own and the channel totals are added in row order.
    private static readonly Tensor X = TestTensors.Randn(31, DType.Float32, 32, 8, 32, 32);
    private static readonly Tensor Up = TestTensors.Randn(32, DType.Float32, 32, 8, 32, 32);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batch_norm_forward_and_gradients_are_identical_on_one_and_two_threads(bool fusedRelu) =>
        AssertIdentical((x, w, b) =>
        {
            var mean = Tensor.Zeros(new Shape(8));
            var variance = Tensor.Ones(new Shape(8));
            var y = Functional.BatchNorm(x, mean, variance, w, b, true, 0.1, 1e-5, fusedRelu ? Activation.Relu : Activation.None);
            return [y, mean, variance];
        });

    [Fact]
    public void Group_norm_forward_and_gradients_are_identical_on_one_and_two_threads() =>
        AssertIdentical((x, w, b) => [Functional.GroupNorm(x, 4, w, b)]);

    /// <summary>The layer's outputs (the first one backpropagated), then the input, weight and bias gradients.</summary>
    private static void AssertIdentical(Func<Tensor, Tensor, Tensor, Tensor[]> layer)
    {
        float[][] Run(int threads)
        {
            float[][] result = [];
            GlobalSettings.WithThreads(threads, () =>
            {
                var input = X.Detach().RequiresGrad_();
                var w = TestTensors.Randn(33, DType.Float32, 8).RequiresGrad_();
                var b = TestTensors.Randn(34, DType.Float32, 8).RequiresGrad_();
                var outputs = layer(input, w, b);
                outputs[0].Mul(Up).Sum().Backward();
                result = [.. outputs.Select(o => o.ToArray<float>()), input.Grad!.ToArray<float>(), w.Grad!.ToArray<float>(), b.Grad!.ToArray<float>()];
            });
            return result;
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one.Length, two.Length);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
        Assert.Contains(one[^3], v => v != 0); // the gradient reached the input
    }
}
