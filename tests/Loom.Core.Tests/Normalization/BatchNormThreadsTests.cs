namespace Loom.Tests.Normalization;

[Collection(GlobalSettings.Name)]
public class BatchNormThreadsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batch_norm_forward_and_gradients_are_identical_on_one_and_two_threads(bool fusedRelu)
    {
        // [32, 8, 32, 32]: 256 rows of 1,024 elements, two ranges of 128 rows at two threads (the split starts at
        // 128 Ki elements per thread). Each row's sums are its own and the channel totals are added in row order.
        var x = TestTensors.Randn(31, DType.Float32, 32, 8, 32, 32);
        var up = TestTensors.Randn(32, DType.Float32, 32, 8, 32, 32);
        float[][] Run(int threads)
        {
            float[][] result = [];
            GlobalSettings.WithThreads(threads, () =>
            {
                var input = x.Detach().RequiresGrad_();
                var w = TestTensors.Randn(33, DType.Float32, 8).RequiresGrad_();
                var b = TestTensors.Randn(34, DType.Float32, 8).RequiresGrad_();
                var mean = Tensor.Zeros(new Shape(8));
                var variance = Tensor.Ones(new Shape(8));
                var y = Functional.BatchNorm(input, mean, variance, w, b, true, 0.1, 1e-5, fusedRelu ? Activation.Relu : Activation.None);
                y.Mul(up).Sum().Backward();
                result = [y.ToArray<float>(), input.Grad!.ToArray<float>(), w.Grad!.ToArray<float>(), b.Grad!.ToArray<float>(),
                    mean.ToArray<float>(), variance.ToArray<float>()];
            });
            return result;
        }
        var one = Run(1);
        var two = Run(2);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
        Assert.Contains(one[1], v => v != 0); // the gradient reached the input
    }

    [Fact]
    public void Group_norm_forward_and_gradients_are_identical_on_one_and_two_threads()
    {
        var x = TestTensors.Randn(35, DType.Float32, 32, 8, 32, 32);
        var up = TestTensors.Randn(36, DType.Float32, 32, 8, 32, 32);
        float[][] Run(int threads)
        {
            float[][] result = [];
            GlobalSettings.WithThreads(threads, () =>
            {
                var input = x.Detach().RequiresGrad_();
                var w = TestTensors.Randn(37, DType.Float32, 8).RequiresGrad_();
                var b = TestTensors.Randn(38, DType.Float32, 8).RequiresGrad_();
                var y = Functional.GroupNorm(input, 4, w, b);
                y.Mul(up).Sum().Backward();
                result = [y.ToArray<float>(), input.Grad!.ToArray<float>(), w.Grad!.ToArray<float>(), b.Grad!.ToArray<float>()];
            });
            return result;
        }
        var one = Run(1);
        var two = Run(2);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
        Assert.Contains(one[1], v => v != 0);
    }
}
