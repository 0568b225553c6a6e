namespace Loom.Tests.Pooling;

public class MaxPoolTests
{
    // H, W, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, ceil mode (0/1)
    [Theory]
    [InlineData(7, 17, 2, 2, 2, 2, 0, 0, 1, 1, 0)]
    [InlineData(7, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1)]
    [InlineData(8, 9, 3, 2, 1, 2, 1, 1, 2, 1, 0)]
    [InlineData(5, 5, 2, 2, 2, 2, 0, 0, 1, 1, 1)]
    [InlineData(1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0)]
    [InlineData(33, 17, 3, 3, 3, 3, 1, 1, 1, 1, 1)]
    [InlineData(6, 7, 3, 3, 2, 2, 1, 0, 2, 2, 1)]
    [InlineData(65, 1, 4, 1, 3, 1, 2, 0, 1, 1, 1)]
    [InlineData(9, 70, 3, 3, 2, 2, 1, 1, 1, 1, 0)]  // rows wide enough for the vectorised even/odd split (ResNet's stem pool)
    [InlineData(5, 45, 2, 3, 1, 2, 0, 1, 1, 1, 1)]  // odd width, ceil mode: the last window reaches past the row
    [InlineData(6, 50, 3, 4, 2, 2, 1, 2, 1, 1, 0)]  // an even kernel: two taps from each phase
    public void MaxPool2d_matches_the_reference(int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int ceil)
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 3, h, w);
        var expected = PoolOracle.MaxPool2d(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil == 1);
        var y = Functional.MaxPool2d(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil == 1);
        TensorAssert.Close(expected, y, 0, 0);
        TensorAssert.Close(expected, Functional.MaxPool2d(TestTensors.NonContiguous(x), (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil == 1), 0, 0);
        TensorAssert.Close(expected.Select(0, 1), Functional.MaxPool2d(x.Select(0, 1), (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil == 1), 0, 0);
        // An input that requires grad takes the kernel that records each maximum's index (the others do not).
        var recorded = Functional.MaxPool2d(x.Detach().RequiresGrad_(), (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil == 1);
        TensorAssert.Close(expected, recorded.Detach(), 0, 0);
    }

    [Fact]
    public void NaN_wins_in_the_vectorised_rows_of_the_inference_kernel()
    {
        var data = TestTensors.Randn(3, DType.Float32, 1, 1, 6, 70).ToArray<float>();
        data[2 * 70 + 41] = float.NaN; // row 2, column 41: output row 1, columns 20 (39–41) and 21 (41–43)
        var y = Functional.MaxPool2d(Tensor.FromArray(data, 1, 1, 6, 70), (3, 3), (2, 2), (1, 1)).ToArray<float>();
        for (int oh = 0; oh < 3; oh++)
            for (int ow = 0; ow < 35; ow++)
                Assert.Equal(oh is 1 && ow is 20 or 21, float.IsNaN(y[oh * 35 + ow]));
    }

    [Fact]
    public void NaN_wins_in_the_inference_kernel_too()
    {
        // 3×3 windows with stride 2 and padding 1 (ResNet's stem pool), computed without recording indices.
        var data = TestTensors.Randn(3, DType.Float32, 1, 1, 6, 6).ToArray<float>();
        data[2 * 6 + 3] = float.NaN; // row 2, column 3: only the windows of output row 1, columns 1 and 2, hold it
        var y = Functional.MaxPool2d(Tensor.FromArray(data, 1, 1, 6, 6), (3, 3), (2, 2), (1, 1)).ToArray<float>();
        for (int oh = 0; oh < 3; oh++)
            for (int ow = 0; ow < 3; ow++)
                Assert.Equal(oh is 1 && ow is 1 or 2, float.IsNaN(y[oh * 3 + ow]));
    }

    [Fact]
    public void Stride_defaults_to_the_kernel_size()
    {
        var x = Tensor.Arange(0, 16, 1, DType.Float32).Reshape(1, 1, 4, 4);
        Assert.Equal(new float[] { 5, 7, 13, 15 }, Functional.MaxPool2d(x, 2).ToArray<float>());
    }

    [Fact]
    public void NaN_in_a_window_is_the_maximum()
    {
        var x = Tensor.FromArray(new float[] { 1, float.NaN, 3, 4, 5, 6, 7, 8 }, 1, 1, 2, 4);
        var y = Functional.MaxPool2d(x, 2).ToArray<float>();
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(8, y[1]);
    }

    [Theory]
    [InlineData(17, 3, 2, 1, 1, 0)]
    [InlineData(33, 4, 3, 2, 2, 1)]
    [InlineData(7, 2, 2, 0, 1, 1)]
    public void MaxPool1d_matches_the_2d_reference_on_a_single_row(int length, int k, int stride, int padding, int dilation, int ceil)
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 3, length);
        var expected = PoolOracle.MaxPool2d(x.Unsqueeze(2), (1, k), (1, stride), (0, padding), (1, dilation), ceil == 1).Squeeze(2);
        TensorAssert.Close(expected, Functional.MaxPool1d(x, k, stride, padding, dilation, ceil == 1), 0, 0);
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var x = TestTensors.Param(1, 2, 2, 5, 6);
        TensorAssert.GradientsMatch(t => Functional.MaxPool2d(t[0], 3, stride: 2, padding: 1, ceilMode: true), x);
        TensorAssert.GradientsMatch(t => Functional.MaxPool2d(t[0], (2, 3), (1, 2), dilation: (2, 1)), x);
        TensorAssert.GradientsMatch(t => Functional.MaxPool1d(t[0], 3, stride: 2, padding: 1), TestTensors.Param(2, 2, 3, 8));
    }

    [Fact]
    public void Overlapping_windows_that_share_a_maximum_add_their_gradients()
    {
        var x = Tensor.FromArray(new double[] { 0, 9, 0, 0 }, 1, 1, 1, 4).RequiresGrad_();
        Functional.MaxPool2d(x, (1, 2), (1, 1)).Backward(Tensor.Ones(new Shape(1, 1, 1, 3), DType.Float64));
        Assert.Equal(new double[] { 0, 2, 1, 0 }, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Bad_options_are_named_in_the_error()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.MaxPool2d(Tensor.Zeros(1, 1, 8, 8), 2, padding: 2), "max_pool2d", "half", "[1, 1, 8, 8]", "padding (2, 2)");
        TensorAssert.Throws<ArgumentException>(() => Functional.MaxPool2d(Tensor.Zeros(1, 1, 1, 8), 2), "max_pool2d: output would be empty", "[1, 1, 1, 8]", "kernel (2, 2)");
        TensorAssert.Throws<ArgumentException>(() => Functional.MaxPool2d(Tensor.Zeros(8, 8), 2), "max_pool2d", "[8, 8]");
        TensorAssert.Throws<ArgumentException>(() => Functional.MaxPool1d(Tensor.Zeros(1, 2, 3), 4), "max_pool1d", "[1, 2, 3]", "kernel 4");
        TensorAssert.Throws<NotSupportedException>(() => Functional.MaxPool2d(Tensor.Zeros(new Shape(1, 1, 4, 4), DType.Int32), 2), "max_pool2d", "int32");
    }
}
