using System.Runtime.Intrinsics;

namespace Loom.Tests.Conv;

/// <summary>
/// Winograd F(2×2, 3×3) on the blocked-channel layout (<see cref="WinogradConv"/>, taken by
/// <see cref="Functional.Conv2dBlocked"/>): against the float64 oracle with a tolerance from the rounding of float32
/// sums, with bias, residual and ReLU, partial tiles (odd sizes), padding 0, 1 and 2, several channel blocks, batch 2,
/// at 1 and 3 threads and on every GEMM path the CPU has.
/// </summary>
[Collection(GlobalSettings.Name)]
public class WinogradTests
{
    // N, C, H, W, OutC, pad.
    public static TheoryData<int[]> Cases => new()
    {
        new[] { 1, 16, 7, 9, 32, 1 },   // odd height and width: the last row and column of tiles half outside; one block in, two out
        new[] { 1, 32, 6, 8, 16, 0 },   // no padding: 4 × 6 outputs, whole tiles
        new[] { 2, 48, 5, 5, 48, 1 },   // batch 2, three blocks in and out, 3 × 3 tiles per image
        new[] { 1, 64, 15, 13, 64, 1 }, // 56 tiles: several blocks of tiles, split over the threads
        new[] { 1, 16, 3, 3, 16, 1 },   // one output block of 3 × 3: four tiles, three of them partial
        new[] { 1, 32, 10, 11, 16, 2 }, // padding 2: 12 × 13 outputs, tiles reading two rows and columns of zeros
        new[] { 1, 16, 3, 4, 16, 0 },   // a single row of outputs (1 × 2): every tile half outside
        new[] { 1, 128, 7, 7, 64, 1 },  // ResNet18's last stage shape, narrowed: 16 tiles of 128 channels
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Winograd_matches_the_float64_oracle_with_bias_residual_and_relu(int[] c)
    {
        if (!Vector512.IsHardwareAccelerated) return; // the blocked layout (and so this kernel) needs AVX-512: Conv2dChannelBlock is 0
        var (x, w, b, r, pad) = Operands(c);
        var g = Geometry(c);
        Assert.True(WinogradConv.Applies(g));
        var exact = Oracle(x, w, b, r, pad);
        var bound = Bound(x, w, b, r, pad);
        var packed = new PackedConv2dWeight(w);
        foreach (int threads in new[] { 1, 3 })
            GlobalSettings.WithThreads(threads, () =>
            {
                var y = WithAlgorithm(ConvAlgorithm.Winograd, () => Blocked(x, packed, b, r, pad, Activation.Relu));
                AssertWithin(exact.Relu(), y, bound);
                var plain = WithAlgorithm(ConvAlgorithm.Winograd, () => Blocked(x, packed, null, null, pad, Activation.None));
                AssertWithin(Oracle(x, w, null, null, pad), plain, Bound(x, w, null, null, pad));
                // Not bit-equal to the direct kernel (other roundings), but within the same bound of the exact result.
                var direct = WithAlgorithm(ConvAlgorithm.Direct, () => Blocked(x, packed, b, r, pad, Activation.Relu));
                AssertWithin(exact.Relu(), direct, bound);
            });
    }

    [Theory]
    [InlineData(GemmPath.Scalar)]
    [InlineData(GemmPath.Avx2)]
    [InlineData(GemmPath.Avx512)]
    public void Every_gemm_path_gives_a_result_within_the_bound_and_the_weights_follow_the_path(GemmPath path)
    {
        if (!Vector512.IsHardwareAccelerated || !Gemm.IsSupported(path)) return;
        int[] c = [1, 32, 9, 7, 48, 1];
        var (x, w, b, r, pad) = Operands(c);
        var packed = new PackedConv2dWeight(w);
        var exact = Oracle(x, w, b, r, pad).Relu();
        var bound = Bound(x, w, b, r, pad);
        // Packed for the machine's path first: a forced path must repack, not be refused.
        var auto = WithAlgorithm(ConvAlgorithm.Winograd, () => Blocked(x, packed, b, r, pad, Activation.Relu));
        AssertWithin(exact, auto, bound);
        var saved = Gemm.ForcedPath;
        Gemm.ForcedPath = path;
        try
        {
            GlobalSettings.WithThreads(2, () => AssertWithin(exact, WithAlgorithm(ConvAlgorithm.Winograd, () => Blocked(x, packed, b, r, pad, Activation.Relu)), bound));
        }
        finally
        {
            Gemm.ForcedPath = saved;
        }
    }

    [Fact]
    public void A_weight_written_in_place_is_transformed_again()
    {
        if (!Vector512.IsHardwareAccelerated) return;
        int[] c = [1, 16, 6, 6, 16, 1];
        var (x, w, _, _, pad) = Operands(c);
        var packed = new PackedConv2dWeight(w);
        var before = WithAlgorithm(ConvAlgorithm.Winograd, () => Blocked(x, packed, null, null, pad, Activation.None));
        AssertWithin(Oracle(x, w, null, null, pad), before, Bound(x, w, null, null, pad));
        w.MulInPlace(-2.0); // bumps the storage version
        var after = WithAlgorithm(ConvAlgorithm.Winograd, () => Blocked(x, packed, null, null, pad, Activation.None));
        AssertWithin(Oracle(x, w, null, null, pad), after, Bound(x, w, null, null, pad));
    }

    [Fact]
    public void The_rule_takes_resnet18s_stride_1_layers_and_leaves_the_rest_to_the_direct_kernel()
    {
        if (!Vector512.IsHardwareAccelerated) return;
        static Conv2dGeometry G(int channels, int size, int kernel = 3, int stride = 1, int groups = 1, int dilation = 1, int outChannels = 0)
        {
            int pad = dilation * (kernel - 1) / 2, outSize = (size + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
            return new Conv2dGeometry(1, channels, size, size, outChannels > 0 ? outChannels : channels, outSize, outSize, kernel, kernel,
                stride, stride, pad, pad, dilation, dilation, groups);
        }
        foreach (var (channels, size) in new[] { (64, 56), (128, 28), (256, 14), (512, 7) })
        {
            foreach (int threads in new[] { 1, 2 })
                GlobalSettings.WithThreads(threads, () => Assert.True(WithAlgorithm(ConvAlgorithm.Auto, () => WinogradConv.Chooses(G(channels, size))), $"{channels} at {size}"));
        }
        Assert.False(WinogradConv.Applies(G(64, 56, stride: 2)));
        Assert.False(WinogradConv.Applies(G(64, 14, kernel: 5)));
        Assert.False(WinogradConv.Applies(G(64, 14, groups: 2)));
        Assert.False(WinogradConv.Applies(G(64, 14, dilation: 2)));
        Assert.False(WinogradConv.Applies(G(64, 14, outChannels: 40)));
        Assert.False(WithAlgorithm(ConvAlgorithm.Auto, () => WinogradConv.Chooses(G(16, 14))));
        Assert.False(WithAlgorithm(ConvAlgorithm.Direct, () => WinogradConv.Chooses(G(64, 56))));
        Assert.False(WithAlgorithm(ConvAlgorithm.Im2col, () => WinogradConv.Chooses(G(64, 56))));
        Assert.True(WithAlgorithm(ConvAlgorithm.Winograd, () => WinogradConv.Chooses(G(16, 14))));
    }

    /// <summary>
    /// |y − exact| ≤ 32·u·(Σ|x|·|w| + |b| + |r|) + u·|exact| elementwise, u = 2⁻²⁴: float32 rounding of sums of 9·C
    /// products (the transforms add at most 4 terms in, 9 out, with coefficients ±1 and ±½), not a tolerance fitted to a
    /// run. A wrong tap, tile or lane is off by a product's size (~0.1–1 here), far above it.
    /// </summary>
    private static void AssertWithin(Tensor exact, Tensor y, Tensor bound)
    {
        var e = exact.ToArray<double>();
        var a = Functional.FromChannelBlocks(y).To(DType.Float64).ToArray<double>();
        var m = bound.ToArray<double>();
        Assert.Equal(e.Length, a.Length);
        const double u = 1.0 / (1 << 24);
        for (int i = 0; i < e.Length; i++)
        {
            double tolerance = 32 * u * m[i] + u * Math.Abs(e[i]);
            Assert.True(Math.Abs(a[i] - e[i]) <= tolerance, $"element {i}: {a[i]} against {e[i]} (tolerance {tolerance:E2})");
        }
    }

    private static Tensor Oracle(Tensor x, Tensor w, Tensor? b, Tensor? r, int pad)
    {
        var y = ConvOracle.Conv2d(x.To(DType.Float64), w.To(DType.Float64), b?.To(DType.Float64), (1, 1), (pad, pad), (1, 1), 1);
        return r is null ? y : y.Add(r.To(DType.Float64));
    }

    private static Tensor Bound(Tensor x, Tensor w, Tensor? b, Tensor? r, int pad)
    {
        var y = ConvOracle.Conv2d(x.To(DType.Float64).Abs(), w.To(DType.Float64).Abs(), b?.To(DType.Float64).Abs(), (1, 1), (pad, pad), (1, 1), 1);
        return r is null ? y : y.Add(r.To(DType.Float64).Abs());
    }

    private static Tensor Blocked(Tensor x, PackedConv2dWeight packed, Tensor? b, Tensor? r, int pad, Activation activation) =>
        Functional.Conv2dBlocked(Functional.ToChannelBlocks(x, 16), packed, b, (1, 1), (pad, pad), (1, 1), activation,
            r is null ? null : Functional.ToChannelBlocks(r, 16));

    private static (Tensor X, Tensor W, Tensor B, Tensor R, int Pad) Operands(int[] c)
    {
        int oh = c[2] + 2 * c[5] - 2, ow = c[3] + 2 * c[5] - 2;
        return (TestTensors.Randn(1, DType.Float32, c[0], c[1], c[2], c[3]), TestTensors.Randn(2, DType.Float32, c[4], c[1], 3, 3).Mul(Tensor.Scalar(0.2f)),
            TestTensors.Randn(3, DType.Float32, c[4]), TestTensors.Randn(4, DType.Float32, c[0], c[4], oh, ow), c[5]);
    }

    private static Conv2dGeometry Geometry(int[] c) =>
        new(c[0], c[1], c[2], c[3], c[4], c[2] + 2 * c[5] - 2, c[3] + 2 * c[5] - 2, 3, 3, 1, 1, c[5], c[5], 1, 1, 1);

    private static T WithAlgorithm<T>(ConvAlgorithm algorithm, Func<T> action) => ConvAlgorithmTests.WithAlgorithm(algorithm, action);
}
