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
        new[] { 1, 256, 18, 17, 256, 1 }, // 81 tiles, 48 to a block: two blocks at one thread, a range each at three
        new[] { 1, 400, 6, 5, 48, 2 },  // depth blocks of 200 (GEMM's cut of 400), the second from lane 8 of a channel block
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

    [Theory]
    [InlineData(1, 256, 18, 17, 256, 1)] // ranges of whole register-tile rows at 2–4 threads, blocks within them at 1
    [InlineData(1, 64, 7, 7, 64, 1)]     // 16 tiles: each block's phases split over the threads
    [InlineData(2, 48, 9, 11, 32, 0)]    // batch 2: ranges that cross from one image to the next
    [InlineData(1, 128, 9, 9, 128, 1)]   // 25 tiles, one block: the threads split the output channels (four column panels)
    [InlineData(1, 32, 6, 7, 48, 1)]     // the same with a last column panel of half width
    public void Winograd_gives_the_same_bits_at_every_thread_count(int n, int cin, int h, int w, int cout, int pad)
    {
        if (!Vector512.IsHardwareAccelerated) return;
        int[] c = [n, cin, h, w, cout, pad];
        var (x, wt, b, r, _) = Operands(c);
        var packed = new PackedConv2dWeight(wt);
        Tensor Run(int threads)
        {
            Tensor y = null!;
            GlobalSettings.WithThreads(threads, () => y = WithAlgorithm(ConvAlgorithm.Winograd, () => Blocked(x, packed, b, r, pad, Activation.Relu)));
            return y;
        }
        var one = Run(1);
        AssertWithin(Oracle(x, wt, b, r, pad).Relu(), one, Bound(x, wt, b, r, pad));
        var bits = one.ToArray<float>();
        foreach (int threads in new[] { 2, 3, 4 })
            Assert.True(bits.AsSpan().SequenceEqual(Run(threads).ToArray<float>()), $"{threads} threads");
    }

    [Theory]
    [InlineData(4, 64, 64)]   // one row tile of four: the four-row kernel
    [InlineData(5, 64, 64)]   // one of five: the whole kernel into a scratch tile
    [InlineData(25, 128, 48)] // two whole row tiles and one row; 48 columns: half a column panel
    [InlineData(12, 400, 64)] // depth blocks of 200 (GEMM's balanced cut of 400): the second starts in lane 8 of a channel block
    [InlineData(30, 512, 96)] // two depth blocks of 256, the second added onto C; a last row tile of six
    public void The_channel_block_kernel_gives_the_bits_of_gemm_on_the_row_major_operand(int m, int k, int n)
    {
        if (!Gemm.IsSupported(GemmPath.Avx512)) return;
        var saved = Gemm.ForcedPath;
        Gemm.ForcedPath = GemmPath.Avx512;
        try
        {
            var v = TestTensors.Randn(5, DType.Float32, m, k).ToArray<float>();
            var u = new PackedGemmB<float>(false, TestTensors.Randn(6, DType.Float32, k, n).ToArray<float>(), k, n, n);
            var expected = new float[m * n];
            u.Multiply(m, v, k, expected, n, parallel: false);
            // V by channel blocks, a line of slack between them; the rows past m hold NaN, which must reach no stored row.
            int rows = (m + 11) / 12 * 12, stride = rows * 16 + 16, ldc = n + 3;
            var blocked = new float[k / 16 * stride];
            Array.Fill(blocked, float.NaN);
            for (int i = 0; i < m; i++)
                for (int ch = 0; ch < k; ch++)
                    blocked[ch / 16 * stride + 16 * i + ch % 16] = v[i * k + ch];
            var c = new float[m * ldc];
            Array.Fill(c, float.NaN);
            WinogradConv.MultiplyBlocked(m, blocked, stride, u, c, ldc);
            for (int i = 0; i < m; i++)
            {
                Assert.True(c.AsSpan(i * ldc, n).SequenceEqual(expected.AsSpan(i * n, n)), $"row {i}");
                Assert.True(c.AsSpan(i * ldc + n, i + 1 < m ? 3 : 0).ToArray().All(float.IsNaN), $"row {i}: written past its columns");
            }
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
