namespace Loom.Tests.Conv;

/// <summary>
/// A convolution weight packed once (<see cref="PackedConv2dWeight"/>, for GEMM's panels or the direct kernel's
/// blocks) gives the bits the unpacked fused convolution gives, is really what the kernels read, and repacks when the
/// weight changes in place.
/// </summary>
[Collection(GlobalSettings.Name)]
public class PackedConvTests
{
    // N, C, H, W, OutC, k, stride, pad, groups, forced to im2col + GEMM (packed: GEMM's panels).
    public static TheoryData<int[]> Cases => new()
    {
        new[] { 1, 6, 11, 9, 26, 3, 2, 1, 2 },  // stride 2, 2 groups, 13 rows per group: a partial register panel
        new[] { 2, 8, 7, 7, 30, 1, 1, 0, 1 },   // 1×1: GEMM on the image itself
        new[] { 1, 40, 7, 7, 25, 3, 1, 1, 1 },  // depth 360, 49 columns as ResNet18's last stage
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Packed_weights_give_the_bits_of_the_unpacked_gemm_convolution(int[] c)
    {
        var saved = ConvKernels.ForcedAlgorithm;
        ConvKernels.ForcedAlgorithm = ConvAlgorithm.Im2col;
        try
        {
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                var x = TestTensors.Randn(1, dtype, c[0], c[1], c[2], c[3]);
                var w = TestTensors.Randn(2, dtype, c[4], c[1] / c[8], c[5], c[5]);
                var b = TestTensors.Randn(3, dtype, c[4]);
                var packed = new PackedConv2dWeight(w, c[8]);
                (int, int) stride = (c[6], c[6]), pad = (c[7], c[7]);
                var plain = Functional.Conv2d(x, w, b, stride, pad, (1, 1), c[8]);
                var r = TestTensors.Randn(4, dtype, plain.Shape.ToArray());
                foreach (var (bias, residual, activation) in new[] { (b, r, Activation.Relu), (null, null, Activation.None), (b, null, Activation.Tanh) })
                {
                    var expected = Functional.Conv2d(x, w, bias, stride, pad, (1, 1), c[8], activation, residual);
                    var actual = Functional.Conv2d(x, packed, bias, stride, pad, (1, 1), activation, residual);
                    TensorAssert.Close(expected, actual, 0, 0);
                }
            }
        }
        finally
        {
            ConvKernels.ForcedAlgorithm = saved;
        }
    }

    // N, C, H, W, OutC, k, pad, groups: stride 1, the direct kernel (forced, so that the unpacked reference takes it
    // too whatever the weight size): 10 rows per group (a block of 8 and a partial one), and batch 1 (threads share
    // the blocks of output channels) beside batch 3 (threads take images).
    public static TheoryData<int[]> DirectCases => new()
    {
        new[] { 3, 6, 9, 11, 20, 3, 1, 2 },
        new[] { 1, 5, 7, 7, 13, 3, 1, 1 },
        new[] { 1, 24, 6, 6, 64, 3, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(DirectCases))]
    public void Packed_weights_give_the_bits_of_the_unpacked_direct_kernel(int[] c)
    {
        var saved = ConvKernels.ForcedAlgorithm;
        ConvKernels.ForcedAlgorithm = ConvAlgorithm.Direct;
        try
        {
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                var x = TestTensors.Randn(1, dtype, c[0], c[1], c[2], c[3]);
                var w = TestTensors.Randn(2, dtype, c[4], c[1] / c[7], c[5], c[5]);
                var b = TestTensors.Randn(3, dtype, c[4]);
                var packed = new PackedConv2dWeight(w, c[7]);
                var r = TestTensors.Randn(4, dtype, Functional.Conv2d(x, w, b, (1, 1), (c[6], c[6]), (1, 1), c[7]).Shape.ToArray());
                foreach (var (bias, residual, activation) in new[] { (b, r, Activation.Relu), (null, null, Activation.None) })
                {
                    var expected = Functional.Conv2d(x, w, bias, (1, 1), (c[6], c[6]), (1, 1), c[7], activation, residual);
                    TensorAssert.Close(expected, Functional.Conv2d(x, packed, bias, (1, 1), (c[6], c[6]), (1, 1), activation, residual), 0, 0);
                }
            }
        }
        finally
        {
            ConvKernels.ForcedAlgorithm = saved;
        }
    }

    // N, C, H, W, OutC, k, stride, pad, dilation, groups: strided convolutions, which packed weights run as a direct
    // convolution over the input's stride × stride phases: ResNet18's stem (7×7, stride 2, pad 3), a stride-2 3×3 with
    // an odd input, a stride-2 2×2, stride 3 with dilation 2 and groups, and a batch of 3 (threads take images).
    public static TheoryData<int[]> StridedCases => new()
    {
        new[] { 1, 3, 20, 18, 10, 7, 2, 3, 1, 1 },
        new[] { 1, 6, 13, 13, 16, 3, 2, 1, 1, 1 },
        new[] { 1, 8, 9, 10, 12, 2, 2, 0, 1, 1 },
        new[] { 1, 4, 17, 16, 6, 3, 3, 2, 2, 2 },
        new[] { 3, 5, 11, 12, 9, 3, 2, 0, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(StridedCases))]
    public void Strided_convolutions_from_packed_weights_match_the_oracle(int[] c)
    {
        var x = TestTensors.Randn(1, DType.Float64, c[0], c[1], c[2], c[3]);
        var w = TestTensors.Randn(2, DType.Float64, c[4], c[1] / c[9], c[5], c[5]);
        var b = TestTensors.Randn(3, DType.Float64, c[4]);
        (int, int) stride = (c[6], c[6]), pad = (c[7], c[7]), dilation = (c[8], c[8]);
        var expected = ConvOracle.Conv2d(x, w, b, stride, pad, dilation, c[9]).Add(0.5).Relu();
        var r = Tensor.Full(expected.Shape, 0.5, DType.Float64);
        TensorAssert.Close(expected, Functional.Conv2d(x, new PackedConv2dWeight(w, c[9]), b, stride, pad, dilation, Activation.Relu, r), 1e-12, 1e-12);
    }

    [Fact]
    public void The_packed_copy_is_what_gemm_reads_and_an_in_place_change_repacks()
    {
        var saved = ConvKernels.ForcedAlgorithm;
        ConvKernels.ForcedAlgorithm = ConvAlgorithm.Im2col;
        try
        {
            ReadsThePackedCopy(outChannels: 16, stride: 2);
        }
        finally
        {
            ConvKernels.ForcedAlgorithm = saved;
        }
    }

    [Fact]
    public void The_packed_copy_is_what_the_direct_kernel_reads_and_an_in_place_change_repacks() =>
        ReadsThePackedCopy(outChannels: 10, stride: 1);

    private static void ReadsThePackedCopy(int outChannels, int stride)
    {
        var x = TestTensors.Randn(1, DType.Float32, 1, 4, 9, 9);
        var w = TestTensors.Randn(2, DType.Float32, outChannels, 4, 3, 3);
        var packed = new PackedConv2dWeight(w);
        Tensor Packed() => Functional.Conv2d(x, packed, null, (stride, stride), (1, 1), (1, 1));
        var original = Functional.Conv2d(x, w, null, stride, 1);
        TensorAssert.Close(original, Packed(), 0, 0);
        // A write behind the storage's back (no version bump) is not seen: the kernel reads the packed copy.
        ((float[])w.Storage.RawArray)[0] += 1f;
        TensorAssert.Close(original, Packed(), 0, 0);
        // An in-place op bumps the version, and the next call repacks from the current values.
        w.MulInPlace(2.0);
        var changed = Functional.Conv2d(x, w, null, stride, 1);
        Assert.False(changed.AllClose(original, 1e-3, 1e-3));
        TensorAssert.Close(changed, Packed(), 0, 0);
    }

    [Fact]
    public void When_autograd_records_the_packed_op_differentiates_through_its_weight()
    {
        var x = TestTensors.Param(1, 1, 2, 6, 6);
        var w = TestTensors.Param(2, 3, 2, 3, 3);
        var packed = new PackedConv2dWeight(w);
        var y = Functional.Conv2d(x, packed, null, (2, 2), (1, 1), (1, 1), Activation.Tanh);
        Assert.NotNull(y.GradFn);
        TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], new PackedConv2dWeight(t[1]), null, (2, 2), (1, 1), (1, 1), Activation.Tanh), x, w);
    }

    [Fact]
    public void Bad_weights_are_refused_with_a_clear_message()
    {
        Assert.Contains("[OutC, C / groups, kH, kW]", Assert.Throws<ArgumentException>(() => new PackedConv2dWeight(Tensor.Zeros(new Shape(3, 3)))).Message);
        Assert.Contains("groups", Assert.Throws<ArgumentException>(() => new PackedConv2dWeight(Tensor.Zeros(new Shape(3, 2, 1, 1)), 2)).Message);
        Assert.Contains("float32 or float64", Assert.Throws<ArgumentException>(() => new PackedConv2dWeight(Tensor.Zeros(new Shape(3, 2, 1, 1), DType.Int32))).Message);
    }

    [Fact]
    public void Packed_gemm_matches_gemm_bit_for_bit()
    {
        // 37 rows (3 full panels and an edge), depth 900 (several depth blocks), 70 columns (two panels and an edge):
        // big enough to split over the threads (Threads.Count is left alone: other tests read it concurrently).
        const int m = 37, k = 900, n = 70;
        var a = TestTensors.Randn(1, DType.Float32, m, k).ToArray<float>();
        var b = TestTensors.Randn(2, DType.Float32, k, n).ToArray<float>();
        var c0 = TestTensors.Randn(3, DType.Float32, m, n).ToArray<float>();
        var packed = new PackedGemmA<float>(a, m, k, k);
        foreach (bool accumulate in new[] { false, true })
        {
            var expected = (float[])c0.Clone();
            var actual = (float[])c0.Clone();
            TypedGemm.Run(false, false, m, n, k, a.AsSpan(), k, b.AsSpan(), n, accumulate, expected.AsSpan(), n);
            packed.Multiply(n, b, n, accumulate, actual, n);
            Assert.Equal(expected, actual);
        }
    }
}
