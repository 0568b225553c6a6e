namespace Loom.Tests.Pooling;

/// <summary>
/// Values printed by PyTorch 1.13 (torch.nn.functional) for small inputs, so that the ceil-mode and padding rules
/// shared by the kernels and the reference are checked against the real thing, not only against each other.
/// </summary>
public class TorchGoldenTests
{
    private static readonly Tensor Ramp6x6 = Tensor.Arange(0, 36, 1, DType.Float64).Reshape(1, 1, 6, 6);

    [Fact]
    public void Avg_pool_in_ceil_mode_matches_torch()
    {
        // F.avg_pool2d(arange(36).reshape(1, 1, 6, 6), 3, 2, 1, ceil_mode=True, count_include_pad=True / False)
        TensorAssert.Close(
            [1.5555555555555556, 3.3333333333333335, 4.666666666666667, 2.6666666666666665, 8.333333333333334, 14.0, 16.0, 8.5,
             16.333333333333332, 26.0, 28.0, 14.5, 10.166666666666666, 16.0, 17.0, 8.75],
            Functional.AvgPool2d(Ramp6x6, 3, 2, 1, countIncludePad: true, ceilMode: true).ToArray<double>(), 1e-12, 1e-12);
        TensorAssert.Close(
            [3.5, 5.0, 7.0, 8.0, 12.5, 14.0, 16.0, 17.0, 24.5, 26.0, 28.0, 29.0, 30.5, 32.0, 34.0, 35.0],
            Functional.AvgPool2d(Ramp6x6, 3, 2, 1, countIncludePad: false, ceilMode: true).ToArray<double>(), 1e-12, 1e-12);
    }

    [Fact]
    public void Max_pool_in_ceil_mode_matches_torch()
    {
        // F.max_pool2d(x, 2, 2, 0, ceil_mode=True); F.max_pool2d(x, (2, 3), (2, 2), (1, 1), dilation=(2, 1), ceil_mode=True).shape
        Assert.Equal(new double[] { 7, 9, 11, 19, 21, 23, 31, 33, 35 }, Functional.MaxPool2d(Ramp6x6, 2, 2, 0, ceilMode: true).ToArray<double>());
        Assert.Equal(new Shape(1, 1, 4, 4), Functional.MaxPool2d(Ramp6x6, (2, 3), (2, 2), (1, 1), (2, 1), ceilMode: true).Shape);
    }

    [Fact]
    public void Adaptive_avg_pool_matches_torch()
    {
        // F.adaptive_avg_pool2d(arange(35).reshape(1, 1, 5, 7), (3, 4))
        var y = Tensor.Arange(0, 35, 1, DType.Float64).Reshape(1, 1, 5, 7);
        TensorAssert.Close([4.0, 5.5, 7.5, 9.0, 14.5, 16.0, 18.0, 19.5, 25.0, 26.5, 28.5, 30.0],
            Functional.AdaptiveAvgPool2d(y, (3, 4)).ToArray<double>(), 1e-12, 1e-12);
    }
}
