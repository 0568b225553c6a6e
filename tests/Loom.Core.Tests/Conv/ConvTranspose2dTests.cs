namespace Loom.Tests.Conv;

public class ConvTranspose2dTests
{
    // N, C, H, W, OutC/groups, kH, kW, stride, padding, outputPadding, dilation, groups
    [Theory]
    [InlineData(1, 3, 5, 7, 2, 3, 3, 1, 0, 0, 1, 1)]
    [InlineData(3, 4, 4, 3, 3, 3, 2, 2, 1, 1, 1, 2)]
    [InlineData(2, 2, 3, 3, 2, 2, 2, 2, 0, 0, 1, 1)]
    [InlineData(2, 4, 5, 5, 1, 3, 3, 1, 1, 0, 2, 4)]
    [InlineData(1, 5, 6, 6, 3, 1, 1, 1, 0, 0, 1, 1)]
    [InlineData(1, 2, 7, 9, 2, 4, 3, 3, 2, 2, 1, 1)]
    [InlineData(1, 2, 4, 4, 2, 3, 3, 1, 0, 1, 2, 1)]  // output padding below the dilation: a row and column only the bias reaches
    public void ConvTranspose2d_matches_the_scatter_reference(int n, int c, int h, int w, int outPerGroup, int kh, int kw,
        int stride, int padding, int outputPadding, int dilation, int groups)
    {
        var x = TestTensors.Randn(1, DType.Float32, n, c, h, w);
        var weight = TestTensors.Randn(2, DType.Float32, c, outPerGroup, kh, kw);
        var b = TestTensors.Randn(3, DType.Float32, outPerGroup * groups);
        var expected = ConvOracle.ConvTranspose2d(x, weight, b, (stride, stride), (padding, padding), (outputPadding, outputPadding), (dilation, dilation), groups);
        var y = Functional.ConvTranspose2d(x, weight, b, stride, padding, outputPadding, dilation, groups);
        TensorAssert.Close(expected, y, 1e-4, 1e-4);
        TensorAssert.Close(expected, Functional.ConvTranspose2d(TestTensors.NonContiguous(x), weight, b, stride, padding, outputPadding, dilation, groups), 1e-4, 1e-4);
    }

    // N, C, H, W, OutC, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups
    [Theory]
    [InlineData(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1)]
    [InlineData(1, 4, 9, 8, 6, 3, 2, 2, 3, 1, 0, 1, 1, 2)]
    [InlineData(3, 4, 8, 7, 4, 3, 3, 2, 2, 2, 1, 2, 2, 4)]
    [InlineData(2, 2, 5, 5, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1)]
    public void ConvTranspose2d_is_the_adjoint_of_Conv2d(int n, int c, int h, int w, int outC, int kh, int kw,
        int sh, int sw, int ph, int pw, int dh, int dw, int groups)
    {
        // ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩, with output padding making convᵀ(y) the size of x.
        var x = TestTensors.Randn(1, DType.Float64, n, c, h, w);
        var weight = TestTensors.Randn(2, DType.Float64, outC, c / groups, kh, kw);
        var cx = Functional.Conv2d(x, weight, null, (sh, sw), (ph, pw), (dh, dw), groups);
        var y = TestTensors.Randn(3, DType.Float64, cx.Shape.ToArray());
        int oh = cx.Shape[2], ow = cx.Shape[3];
        var outputPadding = (h - ((oh - 1) * sh - 2 * ph + dh * (kh - 1) + 1), w - ((ow - 1) * sw - 2 * pw + dw * (kw - 1) + 1));
        var cty = Functional.ConvTranspose2d(y, weight, null, (sh, sw), (ph, pw), outputPadding, (dh, dw), groups);
        Assert.Equal(x.Shape, cty.Shape);
        Assert.Equal(ConvOracle.Dot(cx, y), ConvOracle.Dot(x, cty), 1e-9);
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var x = TestTensors.Param(1, 1, 4, 3, 3);
        var w = TestTensors.Param(2, 4, 2, 3, 3);
        var b = TestTensors.Param(3, 4);
        TensorAssert.GradientsMatch(t => Functional.ConvTranspose2d(t[0], t[1], t[2], stride: 2, padding: 1, outputPadding: 1, groups: 2), x, w, b);
        TensorAssert.GradientsMatch(t => Functional.ConvTranspose2d(t[0], t[1], null, stride: (1, 2), padding: (0, 1), dilation: (2, 1)),
            TestTensors.Param(4, 2, 2, 2, 3), TestTensors.Param(5, 2, 3, 2, 2));
    }

    [Fact]
    public void Bad_channels_and_output_padding_are_named_in_the_error()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros(1, 3, 4, 4), Tensor.Zeros(4, 2, 3, 3)),
            "conv_transpose2d", "[1, 3, 4, 4]", "[4, 2, 3, 3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros(1, 3, 4, 4), Tensor.Zeros(3, 2, 3, 3), stride: 2, outputPadding: 2),
            "conv_transpose2d", "output padding", "stride (2, 2)");
        TensorAssert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros(1, 3, 1, 1), Tensor.Zeros(3, 2, 1, 1), padding: 1),
            "conv_transpose2d: output would be empty", "[1, 3, 1, 1]");
    }
}
