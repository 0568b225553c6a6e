namespace Loom.Tests.Conv;

public class Conv2dTests
{
    // N, C, H, W, OutC, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups
    public static TheoryData<int[]> Cases => new()
    {
        new[] { 1, 3, 7, 17, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1 },   // padded 3×3, odd sizes, batch 1
        new[] { 3, 4, 9, 8, 6, 3, 2, 2, 1, 1, 0, 1, 1, 2 },    // non-square kernel, stride, 2 groups, batch 3
        new[] { 2, 6, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6 },    // depthwise
        new[] { 3, 5, 7, 7, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1 },    // 1×1 (the image is the column matrix)
        new[] { 3, 4, 6, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2 },    // grouped 1×1
        new[] { 2, 4, 7, 7, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1 },    // strided 1×1
        new[] { 1, 2, 11, 13, 3, 3, 3, 1, 2, 2, 1, 2, 3, 1 },  // dilation
        new[] { 1, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1 },    // one pixel
        new[] { 2, 3, 17, 33, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1 },  // odd sizes, 5×3 kernel
        new[] { 1, 4, 5, 5, 8, 5, 5, 1, 1, 0, 0, 1, 1, 2 },    // kernel covers the image: 1×1 output
        new[] { 2, 2, 4, 4, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1 },    // padding larger than the kernel's reach at the edges
        new[] { 0, 3, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1 },    // empty batch
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Conv2d_matches_the_direct_reference(int[] c)
    {
        var (stride, padding, dilation, groups) = ((c[7], c[8]), (c[9], c[10]), (c[11], c[12]), c[13]);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = TestTensors.Randn(1, dtype, c[0], c[1], c[2], c[3]);
            var w = TestTensors.Randn(2, dtype, c[4], c[1] / groups, c[5], c[6]);
            var b = TestTensors.Randn(3, dtype, c[4]);
            var expected = ConvOracle.Conv2d(x, w, b, stride, padding, dilation, groups);
            double tol = dtype == DType.Float32 ? 1e-4 : 1e-12;
            TensorAssert.Close(expected, Functional.Conv2d(x, w, b, stride, padding, dilation, groups), tol, tol);
            TensorAssert.Close(ConvOracle.Conv2d(x, w, null, stride, padding, dilation, groups),
                Functional.Conv2d(x, w, null, stride, padding, dilation, groups), tol, tol);
        }
    }

    [Fact]
    public void Noncontiguous_and_unbatched_inputs_give_the_same_output()
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 3, 6, 7);
        var w = TestTensors.Randn(2, DType.Float32, 4, 3, 3, 3);
        var b = TestTensors.Randn(3, DType.Float32, 4);
        var expected = Functional.Conv2d(x, w, b, padding: 1);
        TensorAssert.Close(expected, Functional.Conv2d(TestTensors.NonContiguous(x), TestTensors.NonContiguous(w), b, padding: 1), 1e-6, 1e-6);
        TensorAssert.Close(expected, Functional.Conv2d(x.Permute(0, 1, 3, 2).Contiguous().Permute(0, 1, 3, 2), w, b, padding: 1), 1e-6, 1e-6);
        var single = Functional.Conv2d(x.Select(0, 1), w, b, padding: 1);
        Assert.Equal(new Shape(4, 6, 7), single.Shape);
        TensorAssert.Close(expected.Select(0, 1), single, 1e-6, 1e-6);
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var x = TestTensors.Param(1, 2, 4, 5, 4);
        var w = TestTensors.Param(2, 6, 2, 3, 2);
        var b = TestTensors.Param(3, 6);
        TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], t[1], t[2], stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 2), x, w, b);
        TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0].Transpose(2, 3), t[1], t[2], padding: 1, groups: 2).Permute(0, 2, 3, 1), x, w, b);
    }

    [Fact]
    public void Gradients_of_pointwise_and_depthwise_convolutions_match_finite_differences()
    {
        var x = TestTensors.Param(1, 2, 4, 3, 3);
        TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], t[1], t[2]), x, TestTensors.Param(2, 2, 4, 1, 1), TestTensors.Param(3, 2));
        TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], t[1], null, stride: 2, padding: 1, groups: 4), x, TestTensors.Param(4, 4, 1, 3, 3));
    }

    [Fact]
    public void Gradients_of_a_batch_large_enough_to_run_in_parallel_match_the_direct_formulas()
    {
        // 4 images of 16×4×9 multiply-adds per output pixel: enough work per image that the batch is split over threads.
        var x = TestTensors.Randn(1, DType.Float64, 4, 8, 12, 12).RequiresGrad_();
        var w = TestTensors.Randn(2, DType.Float64, 16, 4, 3, 3).RequiresGrad_();
        var b = TestTensors.Randn(3, DType.Float64, 16).RequiresGrad_();
        var dy = TestTensors.Randn(4, DType.Float64, 4, 16, 12, 12);
        Functional.Conv2d(x, w, b, padding: 1, groups: 2).Backward(dy);

        // conv2d's input gradient is the transposed convolution of dy with the same weight.
        TensorAssert.Close(ConvOracle.ConvTranspose2d(dy, w, null, (1, 1), (1, 1), (0, 0), (1, 1), 2), x.Grad!, 1e-10, 1e-10);
        TensorAssert.Close(ConvOracle.WeightGrad(x, dy, [16, 4, 3, 3], (1, 1), (1, 1), (1, 1), 2), w.Grad!, 1e-10, 1e-10);
        var db = new double[16];
        var g = dy.ToArray<double>();
        for (int i = 0; i < g.Length; i++) db[i / 144 % 16] += g[i];
        TensorAssert.Close(db, b.Grad!.ToArray<double>(), 1e-10, 1e-10);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    public void A_single_large_image_unfolds_over_threads_and_matches_the_reference(int stride, int dilation)
    {
        // Batch 1 cannot be split over threads, so im2col and col2im split the image's channels instead.
        var x = TestTensors.Randn(1, DType.Float64, 1, 16, 33, 32).RequiresGrad_();
        var w = TestTensors.Randn(2, DType.Float64, 8, 16, 3, 3).RequiresGrad_();
        var y = Functional.Conv2d(x, w, null, stride, padding: 1, dilation: dilation);
        TensorAssert.Close(ConvOracle.Conv2d(x, w, null, (stride, stride), (1, 1), (dilation, dilation), 1), y, 1e-10, 1e-10);
        var dy = TestTensors.Randn(3, DType.Float64, y.Shape.ToArray());
        y.Backward(dy);
        int oh = y.Shape[2], ow = y.Shape[3];
        var outputPadding = (33 - ((oh - 1) * stride - 2 + dilation * 2 + 1), 32 - ((ow - 1) * stride - 2 + dilation * 2 + 1));
        TensorAssert.Close(ConvOracle.ConvTranspose2d(dy, w, null, (stride, stride), (1, 1), outputPadding, (dilation, dilation), 1), x.Grad!, 1e-10, 1e-10);
        TensorAssert.Close(ConvOracle.WeightGrad(x, dy, [8, 16, 3, 3], (stride, stride), (1, 1), (dilation, dilation), 1), w.Grad!, 1e-10, 1e-10);
    }

    [Fact]
    public void Float32_gradients_agree_with_float64()
    {
        var x = TestTensors.Randn(1, DType.Float64, 3, 4, 7, 6);
        var w = TestTensors.Randn(2, DType.Float64, 5, 4, 3, 3);
        var dy = TestTensors.Randn(3, DType.Float64, 3, 5, 4, 3);
        Tensor[] Grads(DType dtype)
        {
            var xs = x.To(dtype).Detach().RequiresGrad_();
            var ws = w.To(dtype).Detach().RequiresGrad_();
            Functional.Conv2d(xs, ws, null, stride: 2, padding: 1).Backward(dy.To(dtype));
            return [xs.Grad!, ws.Grad!];
        }
        var g64 = Grads(DType.Float64);
        var g32 = Grads(DType.Float32);
        TensorAssert.Close(g64[0], g32[0], 1e-4, 1e-4);
        TensorAssert.Close(g64[1], g32[1], 1e-4, 1e-4);
    }

    [Fact]
    public void Changing_the_saved_input_in_place_makes_backward_fail()
    {
        var x = TestTensors.Randn(1, DType.Float64, 1, 2, 4, 4);
        var w = TestTensors.Param(2, 3, 2, 3, 3);
        var y = Functional.Conv2d(x, w);
        x.CopyFrom(Tensor.Ones(x.Shape, DType.Float64));
        TensorAssert.Throws<InvalidOperationException>(() => y.Backward(Tensor.Ones(y.Shape, DType.Float64)), "conv2d", "in-place");
    }

    [Fact]
    public void Mismatched_channels_groups_and_empty_outputs_are_named_in_the_error()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros(1, 3, 8, 8), Tensor.Zeros(4, 2, 3, 3)),
            "conv2d", "[1, 3, 8, 8]", "[4, 2, 3, 3]", "groups 1");
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros(1, 4, 8, 8), Tensor.Zeros(3, 2, 3, 3), groups: 2),
            "conv2d", "[3, 2, 3, 3]", "groups 2");
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros(1, 3, 2, 2), Tensor.Zeros(4, 3, 3, 3)),
            "conv2d: output would be empty", "[1, 3, 2, 2]", "[4, 3, 3, 3]", "padding (0, 0)");
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros(1, 3, 8, 8), Tensor.Zeros(4, 3, 3, 3), Tensor.Zeros(3)),
            "conv2d", "bias", "[4]", "[3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros(3, 8, 8, 1, 1), Tensor.Zeros(4, 3, 3, 3)), "conv2d", "[3, 8, 8, 1, 1]");
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros(1, 3, 8, 8), Tensor.Zeros(4, 3, 3, 3), stride: 0), "conv2d", "stride (0, 0)");
    }
}
