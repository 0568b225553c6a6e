namespace Loom.Tests.Pooling;

public class AvgPoolTests
{
    // H, W, kH, kW, strideH, strideW, padH, padW, count include pad (0/1), ceil mode (0/1)
    [Theory]
    [InlineData(7, 17, 2, 2, 2, 2, 0, 0, 1, 0)]
    [InlineData(7, 17, 3, 3, 2, 2, 1, 1, 1, 1)]
    [InlineData(7, 17, 3, 3, 2, 2, 1, 1, 0, 1)]
    [InlineData(8, 9, 3, 2, 1, 2, 1, 1, 0, 0)]
    [InlineData(5, 5, 2, 2, 2, 2, 0, 0, 1, 1)]
    [InlineData(1, 1, 1, 1, 1, 1, 0, 0, 1, 0)]
    [InlineData(33, 65, 4, 5, 3, 4, 2, 2, 1, 1)]
    public void AvgPool2d_matches_the_reference(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int includePad, int ceil)
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 3, h, w);
        var expected = PoolOracle.AvgPool2d(x, (kh, kw), (sh, sw), (ph, pw), includePad == 1, ceil == 1);
        TensorAssert.Close(expected, Functional.AvgPool2d(x, (kh, kw), (sh, sw), (ph, pw), includePad == 1, ceil == 1), 1e-6, 1e-5);
        TensorAssert.Close(expected, Functional.AvgPool2d(TestTensors.NonContiguous(x), (kh, kw), (sh, sw), (ph, pw), includePad == 1, ceil == 1), 1e-6, 1e-5);
    }

    [Fact]
    public void Padding_counts_in_the_divisor_only_when_asked()
    {
        var x = Tensor.Ones(1, 1, 2, 2);
        Assert.Equal(0.25f, Functional.AvgPool2d(x, 2, stride: 2, padding: 1).ToArray<float>()[0]);
        Assert.Equal(1f, Functional.AvgPool2d(x, 2, stride: 2, padding: 1, countIncludePad: false).ToArray<float>()[0]);
    }

    [Fact]
    public void AvgPool1d_matches_the_2d_reference_on_a_single_row()
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 3, 17);
        var expected = PoolOracle.AvgPool2d(x.Unsqueeze(2), (1, 4), (1, 3), (0, 2), false, true).Squeeze(2);
        TensorAssert.Close(expected, Functional.AvgPool1d(x, 4, 3, 2, countIncludePad: false, ceilMode: true), 1e-6, 1e-5);
    }

    [Theory]
    [InlineData(7, 17, 3, 5)]
    [InlineData(5, 5, 7, 3)]
    [InlineData(4, 6, 1, 1)]
    [InlineData(6, 6, 3, 3)]
    [InlineData(1, 33, 1, 4)]
    public void AdaptiveAvgPool2d_matches_the_reference(int h, int w, int oh, int ow)
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 3, h, w);
        var expected = PoolOracle.AdaptiveAvgPool2d(x, (oh, ow));
        TensorAssert.Close(expected, Functional.AdaptiveAvgPool2d(x, (oh, ow)), 1e-6, 1e-5);
        TensorAssert.Close(expected.Select(0, 0), Functional.AdaptiveAvgPool2d(TestTensors.NonContiguous(x).Select(0, 0), (oh, ow)), 1e-6, 1e-5);
    }

    [Fact]
    public void Adaptive_pooling_to_one_pixel_is_the_plane_mean()
    {
        var x = Tensor.Arange(0, 12, 1, DType.Float64).Reshape(1, 2, 2, 3);
        Assert.Equal(new double[] { 2.5, 8.5 }, Functional.AdaptiveAvgPool2d(x, 1).ToArray<double>());
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var x = TestTensors.Param(1, 2, 2, 5, 6);
        TensorAssert.GradientsMatch(t => Functional.AvgPool2d(t[0], 3, stride: 2, padding: 1, ceilMode: true), x);
        TensorAssert.GradientsMatch(t => Functional.AvgPool2d(t[0], (2, 3), (1, 2), (1, 1), countIncludePad: false), x);
        TensorAssert.GradientsMatch(t => Functional.AvgPool1d(t[0], 3, stride: 2, padding: 1, countIncludePad: false), TestTensors.Param(2, 2, 3, 8));
        TensorAssert.GradientsMatch(t => Functional.AdaptiveAvgPool2d(t[0], (3, 4)), x);
    }

    [Fact]
    public void Bad_options_are_named_in_the_error()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.AvgPool2d(Tensor.Zeros(1, 1, 8, 8), 2, padding: 2), "avg_pool2d", "half", "[1, 1, 8, 8]");
        TensorAssert.Throws<ArgumentException>(() => Functional.AvgPool2d(Tensor.Zeros(1, 1, 3, 8), 4), "avg_pool2d: output would be empty", "[1, 1, 3, 8]");
        TensorAssert.Throws<ArgumentException>(() => Functional.AdaptiveAvgPool2d(Tensor.Zeros(1, 1, 3, 8), (0, 2)), "adaptive_avg_pool2d", "[1, 1, 3, 8]");
        TensorAssert.Throws<ArgumentException>(() => Functional.AdaptiveAvgPool2d(Tensor.Zeros(3, 8), 2), "adaptive_avg_pool2d", "[3, 8]");
    }
}
