using System.Runtime.Intrinsics;

namespace Loom.Tests.Conv;

/// <summary>
/// Max and average pooling on the blocked-channel layout [N, C / b, H, W, b] (an inference chain of blocked convolutions):
/// the max pool the values of PyTorch's scan (max_pool2d with indices on the NCHW tensor), NaN, −∞ and signed zeros
/// included, the average pool the bits of avg_pool2d; on the vector path (one SIMD vector a block) and lane by lane
/// (any block, or forced), at one thread and at several.
/// </summary>
[Collection(GlobalSettings.Name)]
public class BlockedPoolTests
{
    // N, C, H, W, kernel, stride, pad, dilation, ceil mode (0/1).
    public static TheoryData<int[]> Cases => new()
    {
        new[] { 1, 32, 13, 11, 3, 2, 1, 1, 0 }, // ResNet's stem pool on odd sizes, two blocks
        new[] { 2, 48, 8, 9, 2, 2, 0, 1, 0 },   // 2×2/2, batch 2, three blocks, a column no window covers
        new[] { 1, 16, 7, 6, 3, 1, 1, 1, 0 },   // stride 1
        new[] { 1, 16, 9, 10, 3, 2, 2, 2, 0 },  // dilation 2, padding 2
        new[] { 1, 32, 10, 12, 3, 2, 1, 1, 1 }, // ceil mode: a last window that runs past the padded input
        new[] { 3, 16, 5, 5, 5, 3, 2, 1, 0 },   // 5×5/3, batch 3
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_blocked_max_pool_gives_the_values_of_the_nchw_one(int[] c)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = WithSpecials(TestTensors.Randn(1, dtype, c[0], c[1], c[2], c[3]));
            (int, int) kernel = (c[4], c[4]), stride = (c[5], c[5]), pad = (c[6], c[6]), dilation = (c[7], c[7]);
            var expected = Functional.MaxPool2dWithIndices(x, kernel, stride, pad, dilation, c[8] == 1).Output;
            ForEachBlocking(dtype, block =>
            {
                var y = Functional.MaxPool2dBlocked(Functional.ToChannelBlocks(x, block), kernel, stride, pad, dilation, c[8] == 1);
                Assert.Equal(new Shape(c[0], c[1] / block, expected.Shape[2], expected.Shape[3], block), y.Shape);
                AssertSameValues(expected, Functional.FromChannelBlocks(y));
            });
        }
    }

    // Runs `check` with one vector a block (16 float, 8 double), the same lane by lane, and blocks of 4 (always lane by
    // lane), each at 1 and 3 threads.
    private static void ForEachBlocking(DType dtype, Action<int> check)
    {
        int vector = dtype == DType.Float32 ? 16 : 8;
        foreach (var (block, vectors) in new[] { (vector, true), (vector, false), (4, true) })
            foreach (int threads in new[] { 1, 3 })
                GlobalSettings.WithThreads(threads, () =>
                {
                    PoolingKernels.ForcedBlockedVectors = vectors;
                    try
                    {
                        check(block);
                    }
                    finally
                    {
                        PoolingKernels.ForcedBlockedVectors = null;
                    }
                });
    }

    // N, C, H, W, kernel, stride, pad, count_include_pad (0/1), ceil mode (0/1).
    public static TheoryData<int[]> AverageCases => new()
    {
        new[] { 1, 32, 7, 7, 7, 1, 0, 0, 0 },   // ResNet18's final pool: the whole 7×7 plane
        new[] { 2, 48, 9, 10, 3, 2, 1, 1, 0 },  // 3×3/2 with padding counted, batch 2, three blocks
        new[] { 1, 16, 9, 10, 3, 2, 1, 0, 0 },  // padding not counted
        new[] { 1, 32, 10, 12, 3, 2, 1, 0, 1 }, // ceil mode: a last window past the padded input
        new[] { 1, 16, 8, 6, 2, 2, 0, 1, 0 },   // 2×2/2 (the NCHW op's 2 × 2 kernel)
    };

    [Theory]
    [MemberData(nameof(AverageCases))]
    public void The_blocked_average_pool_gives_the_bits_of_the_nchw_one(int[] c)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = TestTensors.Randn(2, dtype, c[0], c[1], c[2], c[3]);
            (int, int) kernel = (c[4], c[4]), stride = (c[5], c[5]), pad = (c[6], c[6]);
            var expected = Functional.AvgPool2d(x, kernel, stride, pad, c[7] == 1, c[8] == 1);
            ForEachBlocking(dtype, block =>
            {
                var y = Functional.AvgPool2dBlocked(Functional.ToChannelBlocks(x, block), kernel, stride, pad, c[7] == 1, c[8] == 1);
                Assert.Equal(new Shape(c[0], c[1] / block, expected.Shape[2], expected.Shape[3], block), y.Shape);
                Assert.Equal(expected.To(DType.Float64).ToArray<double>(), Functional.FromChannelBlocks(y).To(DType.Float64).ToArray<double>());
            });
        }
    }

    [Fact]
    public void Nan_propagates_and_the_first_of_equal_zeros_wins()
    {
        var values = new float[16 * 3 * 3];
        Array.Fill(values, float.NegativeInfinity);
        values[4 * 16 + 0] = float.NaN; // lane 0: NaN among −∞
        values[0 * 16 + 1] = -0f;      // lane 1: −0 then +0 (PyTorch keeps the first)
        values[8 * 16 + 1] = 0f;
        values[2 * 16 + 2] = 0f;       // lane 2: +0 then −0
        values[6 * 16 + 2] = -0f;
        values[3 * 16 + 3] = 1f;       // lane 3: NaN after the maximum
        values[7 * 16 + 3] = float.NaN;
        var x = Tensor.FromArray(values, 1, 1, 3, 3, 16);
        foreach (bool vectors in new[] { true, false })
        {
            PoolingKernels.ForcedBlockedVectors = vectors;
            try
            {
                var y = Functional.MaxPool2dBlocked(x, (3, 3)).ToArray<float>();
                Assert.True(float.IsNaN(y[0]));
                Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(y[1]));
                Assert.Equal(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(y[2]));
                Assert.True(float.IsNaN(y[3]));
                Assert.Equal(float.NegativeInfinity, y[4]);
            }
            finally
            {
                PoolingKernels.ForcedBlockedVectors = null;
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_blocked_pool_rejects_bad_shapes_and_takes_gradients_through_the_nchw_one(bool max)
    {
        // 3×3/2 with padding p, on blocks and on NCHW (the average pool without the padding counted).
        Tensor Blocked(Tensor t, int p) =>
            max ? Functional.MaxPool2dBlocked(t, (3, 3), (2, 2), (p, p)) : Functional.AvgPool2dBlocked(t, (3, 3), (2, 2), (p, p), false);
        Tensor Nchw(Tensor t) => max ? Functional.MaxPool2d(t, (3, 3), (2, 2), (1, 1)) : Functional.AvgPool2d(t, (3, 3), (2, 2), (1, 1), false);
        var x = TestTensors.Randn(1, DType.Float64, 1, 16, 6, 7);
        Assert.Throws<ArgumentException>(() => Blocked(x, 0));
        Assert.Throws<ArgumentException>(() => Blocked(Functional.ToChannelBlocks(x, 8), 2));
        Assert.Throws<NotSupportedException>(() => Blocked(Tensor.Zeros(new Shape(1, 1, 4, 4, 8), DType.Int32), 0));
        x.RequiresGrad_();
        Functional.FromChannelBlocks(Blocked(Functional.ToChannelBlocks(x, 8), 1)).Square().Sum().Backward();
        var gx = x.Grad!.Clone();
        x.Grad = null;
        Nchw(x).Square().Sum().Backward();
        TensorAssert.Close(x.Grad!, gx, 0, 0);
    }

    /// <summary>x with NaN, −∞, +∞ and signed zeros at scattered places (every 7th value up to every 37th).</summary>
    private static Tensor WithSpecials(Tensor x)
    {
        var v = x.To(DType.Float64).ToArray<double>();
        double[] specials = [double.NaN, double.NegativeInfinity, double.PositiveInfinity, -0.0, 0.0];
        for (int i = 0, k = 0; i < v.Length; i += 7 + k % 31, k++) v[i] = specials[k % specials.Length];
        // A plane of −∞ only in the first channel block's lane 1 (no window there sees a finite value).
        int plane = x.Shape[2] * x.Shape[3];
        for (int i = 0; i < plane; i++) v[plane + i] = double.NegativeInfinity;
        return Tensor.FromArray(v, x.Shape.ToArray()).To(x.DType);
    }

    /// <summary>Bit for bit, except that any NaN matches any NaN (which NaN payload wins is not specified).</summary>
    private static void AssertSameValues(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.To(DType.Float64).ToArray<double>();
        var a = actual.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < e.Length; i++)
            Assert.True(double.IsNaN(e[i]) ? double.IsNaN(a[i]) : BitConverter.DoubleToInt64Bits(e[i]) == BitConverter.DoubleToInt64Bits(a[i]),
                $"at {i}: expected {e[i]}, got {a[i]}");
    }
}
