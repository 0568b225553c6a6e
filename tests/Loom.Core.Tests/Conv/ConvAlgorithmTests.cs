using System.Runtime.Intrinsics;

namespace Loom.Tests.Conv;

/// <summary>
/// Both convolution algorithms, forced one at a time (the choice is per thread), against the direct-loop reference:
/// forward, input gradient and weight gradient, in float32 and float64, on the stride-1 and stride-2 shapes the direct
/// kernels take and on the ones they hand back to im2col.
/// </summary>
[Collection(GlobalSettings.Name)]
public class ConvAlgorithmTests
{
    // N, C, H, W, OutC, kH, kW, padH, padW, dilationH, dilationW, groups
    public static TheoryData<int[]> StrideOneCases => new()
    {
        new[] { 2, 1, 28, 28, 6, 5, 5, 2, 2, 1, 1, 1 },     // LeNet-5 conv1 (a batch of 2)
        new[] { 2, 6, 14, 14, 16, 5, 5, 0, 0, 1, 1, 1 },    // LeNet-5 conv2: two full 8-row tiles
        new[] { 3, 3, 7, 17, 9, 3, 3, 1, 1, 1, 1, 1 },      // odd sizes; 9 channels = a tile of 8 and one of 1
        new[] { 2, 4, 9, 8, 6, 3, 2, 1, 0, 1, 1, 2 },       // non-square kernel, 2 groups
        new[] { 2, 6, 8, 8, 6, 3, 3, 1, 1, 1, 1, 6 },       // depthwise: one-row tiles
        new[] { 1, 2, 11, 13, 13, 3, 3, 2, 1, 2, 3, 1 },    // dilation; 13 channels: weight-gradient tiles of 4, 4, 4, 1
        new[] { 1, 5, 33, 1, 3, 3, 1, 1, 0, 1, 1, 1 },      // a one-column image
        new[] { 2, 3, 5, 65, 7, 1, 4, 0, 1, 1, 2, 1 },      // a wide row: many tiles, taps not a multiple of 3
        new[] { 1, 4, 5, 5, 8, 5, 5, 0, 0, 1, 1, 2 },       // kernel covers the image: 1×1 output
        new[] { 2, 3, 4, 4, 2, 1, 1, 1, 1, 1, 1, 1 },       // padding beyond the kernel's reach: input gradient falls back
        new[] { 0, 3, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1 },       // empty batch
    };

    [Theory]
    [MemberData(nameof(StrideOneCases))]
    public void Both_algorithms_match_the_reference_forward_and_backward(int[] c)
    {
        var (padding, dilation, groups) = ((c[7], c[8]), (c[9], c[10]), c[11]);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = TestTensors.Randn(1, dtype, c[0], c[1], c[2], c[3]);
            var w = TestTensors.Randn(2, dtype, c[4], c[1] / groups, c[5], c[6]);
            var b = TestTensors.Randn(3, dtype, c[4]);
            var expected = ConvOracle.Conv2d(x, w, b, (1, 1), padding, dilation, groups);
            var dy = TestTensors.Randn(4, dtype, expected.Shape.ToArray());
            var expectedDx = ConvOracle.ConvTranspose2d(dy, w, null, (1, 1), padding, (0, 0), dilation, groups);
            var expectedDw = ConvOracle.WeightGrad(x, dy, w.Shape.ToArray(), (1, 1), padding, dilation, groups);
            double tol = dtype == DType.Float32 ? 1e-4 : 1e-11;
            foreach (var algorithm in new[] { ConvAlgorithm.Im2col, ConvAlgorithm.Direct })
            {
                var (y, dx, dw) = WithAlgorithm(algorithm, () =>
                {
                    var xs = x.Detach().RequiresGrad_();
                    var ws = w.Detach().RequiresGrad_();
                    var result = Functional.Conv2d(xs, ws, b, (1, 1), padding, dilation, groups);
                    result.Backward(dy);
                    return (result, xs.Grad!, ws.Grad!);
                });
                TensorAssert.Close(expected, y, tol, tol);
                TensorAssert.Close(expectedDx, dx, tol, tol);
                TensorAssert.Close(expectedDw, dw, tol, tol);
            }
        }
    }

    // N, C, H, W, OutC, kH, kW, strideH, strideW, padH, padW, dilationH, dilationW, groups
    public static TheoryData<int[]> StridedCases => new()
    {
        new[] { 2, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1 },  // resnet-mini's layer2.0.conv1: four stored phases
        new[] { 2, 16, 28, 28, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1 },  // its shortcut: a 1×1 kernel reads one phase only
        new[] { 3, 3, 7, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1 },      // odd sizes: phases of unequal height; 9 = 8 + 1 rows
        new[] { 2, 4, 10, 9, 6, 3, 2, 2, 1, 1, 0, 1, 1, 2 },     // stride (2, 1), non-square kernel, 2 groups
        new[] { 1, 3, 11, 12, 5, 3, 3, 2, 2, 2, 2, 2, 2, 1 },    // dilation 2 with stride 2: every tap in the even phase
        new[] { 2, 2, 8, 8, 13, 4, 4, 2, 2, 1, 1, 1, 1, 1 },     // 4×4 kernel: two taps per phase and axis; 13 rows
        new[] { 1, 2, 6, 7, 3, 2, 2, 2, 2, 0, 0, 1, 1, 1 },      // 2×2 patches, an odd width left over
        new[] { 1, 3, 5, 5, 2, 5, 5, 2, 2, 0, 0, 1, 1, 1 },      // the kernel covers the image: 1×1 output
        new[] { 2, 3, 9, 9, 4, 3, 3, 2, 2, 3, 3, 1, 1, 1 },      // padding beyond the kernel's reach: all-zero border rows
        new[] { 0, 3, 6, 6, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1 },      // empty batch
    };

    [Theory]
    [MemberData(nameof(StridedCases))]
    public void Strided_convolutions_match_the_reference_with_both_algorithms(int[] c)
    {
        var (stride, padding, dilation, groups) = ((c[7], c[8]), (c[9], c[10]), (c[11], c[12]), c[13]);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = TestTensors.Randn(1, dtype, c[0], c[1], c[2], c[3]);
            var w = TestTensors.Randn(2, dtype, c[4], c[1] / groups, c[5], c[6]);
            var b = TestTensors.Randn(3, dtype, c[4]);
            var expected = ConvOracle.Conv2d(x, w, b, stride, padding, dilation, groups);
            var dy = TestTensors.Randn(4, dtype, expected.Shape.ToArray());
            // The rows and columns past the last window get no gradient; output padding restores the input's size.
            var outputPadding = (c[2] - TransposedSize(expected.Shape[2], c[5], stride.Item1, padding.Item1, dilation.Item1),
                c[3] - TransposedSize(expected.Shape[3], c[6], stride.Item2, padding.Item2, dilation.Item2));
            var expectedDx = ConvOracle.ConvTranspose2d(dy, w, null, stride, padding, outputPadding, dilation, groups);
            var expectedDw = ConvOracle.WeightGrad(x, dy, w.Shape.ToArray(), stride, padding, dilation, groups);
            double tol = dtype == DType.Float32 ? 1e-4 : 1e-11;
            foreach (var algorithm in new[] { ConvAlgorithm.Im2col, ConvAlgorithm.Direct })
            {
                var (y, dx, dw) = WithAlgorithm(algorithm, () =>
                {
                    var xs = x.Detach().RequiresGrad_();
                    var ws = w.Detach().RequiresGrad_();
                    var result = Functional.Conv2d(xs, ws, b, stride, padding, dilation, groups);
                    result.Backward(dy);
                    return (result, xs.Grad!, ws.Grad!);
                });
                TensorAssert.Close(expected, y, tol, tol);
                TensorAssert.Close(expectedDx, dx, tol, tol);
                TensorAssert.Close(expectedDw, dw, tol, tol);
            }
        }
    }

    private static int TransposedSize(int size, int kernel, int stride, int padding, int dilation) =>
        (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1;

    [Fact]
    public void Direct_strided_gradients_match_finite_differences()
    {
        WithAlgorithm(ConvAlgorithm.Direct, () =>
        {
            var x = TestTensors.Param(1, 2, 4, 7, 6);
            var w = TestTensors.Param(2, 6, 2, 3, 3);
            var b = TestTensors.Param(3, 6);
            TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], t[1], t[2], (2, 2), (1, 1), (1, 1), groups: 2), x, w, b);
            TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], t[1], null, (2, 1), (0, 1), (1, 2), groups: 2), x, w);
            return 0;
        });
    }

    [Fact]
    public void The_direct_kernels_take_strides_one_and_two_and_leave_the_rest_to_im2col()
    {
        bool vector512 = Vector512.IsHardwareAccelerated; // without it, im2col takes everything
        var lenet = new Conv2dGeometry(64, 1, 28, 28, 6, 28, 28, 5, 5, 1, 1, 2, 2, 1, 1, 1);
        Assert.Equal(vector512, DirectConv<float>.Applies(lenet));
        Assert.Equal(vector512, DirectConv<float>.AppliesToInputGrad(lenet));
        Assert.Equal(vector512, DirectConv<double>.Applies(lenet));
        // Stride 2 forward and weight gradient through phases; its input gradient and stride 3 go to im2col.
        var strided = lenet with { StrideH = 2, OutHeight = 14 };
        Assert.Equal(vector512, DirectConv<float>.Applies(strided));
        Assert.False(DirectConv<float>.AppliesToInputGrad(strided));
        Assert.False(DirectConv<float>.Applies(lenet with { StrideH = 3, OutHeight = 10 }));
        // Padding 1 around a 1×1 kernel: the input gradient would need padding −1.
        var wide = new Conv2dGeometry(2, 3, 4, 4, 2, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        Assert.Equal(vector512, DirectConv<float>.Applies(wide));
        Assert.False(DirectConv<float>.AppliesToInputGrad(wide));
        // The geometry of a transposed convolution with output padding has a row no window reaches.
        Assert.False(DirectConv<float>.Applies(new Conv2dGeometry(1, 2, 9, 9, 2, 4, 4, 3, 3, 1, 1, 0, 0, 2, 2, 1)));
    }

    [Fact]
    public void Direct_gradients_match_finite_differences()
    {
        WithAlgorithm(ConvAlgorithm.Direct, () =>
        {
            var x = TestTensors.Param(1, 2, 4, 5, 6);
            var w = TestTensors.Param(2, 6, 2, 3, 2);
            var b = TestTensors.Param(3, 6);
            TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], t[1], t[2], (1, 1), (1, 1), (2, 1), groups: 2), x, w, b);
            TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0].Transpose(2, 3), t[1], null, padding: 1, groups: 2), x, w);
            return 0;
        });
    }

    [Fact]
    public void Direct_conv_transpose2d_matches_the_scatter_reference()
    {
        // conv_transpose2d's forward is conv2d's input gradient and its input gradient conv2d's forward.
        var x = TestTensors.Randn(1, DType.Float64, 2, 4, 6, 7).RequiresGrad_();
        var w = TestTensors.Randn(2, DType.Float64, 4, 3, 3, 3).RequiresGrad_();
        var y = WithAlgorithm(ConvAlgorithm.Direct, () => Functional.ConvTranspose2d(x, w, null, padding: 1, groups: 2));
        TensorAssert.Close(ConvOracle.ConvTranspose2d(x, w, null, (1, 1), (1, 1), (0, 0), (1, 1), 2), y, 1e-11, 1e-11);
        var dy = TestTensors.Randn(3, DType.Float64, y.Shape.ToArray());
        WithAlgorithm(ConvAlgorithm.Direct, () => { y.Backward(dy); return 0; });
        TensorAssert.Close(ConvOracle.Conv2d(dy, w, null, (1, 1), (1, 1), (1, 1), 2), x.Grad!, 1e-11, 1e-11);
    }

    [Fact]
    public void Nonfinite_inputs_reach_only_the_outputs_whose_windows_hold_them()
    {
        // The grid's garbage columns read real pixels; they must never leak into a real output.
        var x = TestTensors.Randn(1, DType.Float32, 1, 1, 6, 6);
        var data = x.ToArray<float>();
        data[5] = float.PositiveInfinity; // row 0, last column
        x = Tensor.FromArray(data, 1, 1, 6, 6);
        var w = TestTensors.Randn(2, DType.Float32, 1, 1, 3, 3);
        var y = WithAlgorithm(ConvAlgorithm.Direct, () => Functional.Conv2d(x, w, null, padding: 0));
        var expected = ConvOracle.Conv2d(x, w, null, (1, 1), (0, 0), (1, 1), 1).ToArray<double>();
        var actual = y.ToArray<float>();
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(double.IsFinite(expected[i]), float.IsFinite(actual[i]));
    }

    [Fact]
    public void Weight_gradients_add_the_batch_ranges_in_batch_order_whichever_thread_finishes_first()
    {
        // Eight images big enough for one image per dispatch: four threads take two images each. Each range's sums
        // are what its two images give alone on one thread; the result must be ((r0 + r1) + r2) + r3 every time.
        var x = TestTensors.Randn(31, DType.Float32, 8, 8, 24, 24);
        var w = TestTensors.Randn(32, DType.Float32, 16, 8, 3, 3);
        var up = TestTensors.Randn(33, DType.Float32, 8, 16, 24, 24);
        float[] WeightGradient(int first, int count)
        {
            var weight = w.Detach().RequiresGrad_();
            Functional.Conv2d(x.Narrow(0, first, count), weight, null, padding: 1).Mul(up.Narrow(0, first, count)).Sum().Backward();
            return weight.Grad!.ToArray<float>();
        }
        foreach (var algorithm in new[] { ConvAlgorithm.Im2col, ConvAlgorithm.Direct })
        {
            WithAlgorithm(algorithm, () =>
            {
                var expected = new float[w.Numel];
                GlobalSettings.WithThreads(1, () =>
                {
                    for (int first = 0; first < 8; first += 2)
                    {
                        var range = WeightGradient(first, 2);
                        for (int i = 0; i < expected.Length; i++) expected[i] += range[i];
                    }
                });
                GlobalSettings.WithThreads(4, () =>
                {
                    for (int repeat = 0; repeat < 10; repeat++) Assert.Equal(expected, WeightGradient(0, 8));
                });
                return 0;
            });
        }
    }

    /// <summary>Runs <paramref name="body"/> with <see cref="ConvKernels.ForcedAlgorithm"/> set, then restores it (WinogradTests too).</summary>
    internal static TResult WithAlgorithm<TResult>(ConvAlgorithm algorithm, Func<TResult> body)
    {
        var saved = ConvKernels.ForcedAlgorithm;
        ConvKernels.ForcedAlgorithm = algorithm;
        try
        {
            return body();
        }
        finally
        {
            ConvKernels.ForcedAlgorithm = saved;
        }
    }
}
