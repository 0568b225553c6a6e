using System.Runtime.Intrinsics;

namespace Loom.Tests.Conv;

/// <summary>
/// The packed forward's two tiles (row tiles: channels vectorised, no grid; column tiles: grid positions vectorised)
/// with their epilogue (bias, residual, ReLU written by the worker that computed the outputs), at one thread and at
/// several (batch 1: threads share the padding and the work units, or take bands of output rows).
/// </summary>
[Collection(GlobalSettings.Name)]
public class PackedTileTests
{
    // N, C, H, W, OutC, k, stride, pad, groups.
    public static TheoryData<int[]> Cases => new()
    {
        new[] { 1, 7, 9, 17, 37, 3, 1, 1, 1 },   // 37 outputs: full and partial blocks of two vectors; 17 wide: row chunks 6 + 6 + 5
        new[] { 1, 4, 5, 6, 70, 3, 2, 1, 1 },    // 3 × 3 outputs (one chunk of 3 per row), 70 outputs: a last block of 6 rows
        new[] { 1, 150, 6, 7, 70, 3, 1, 1, 1 },  // depth 1350 (a block's weights 173 KB in float), 7 wide, split among 3 threads
        new[] { 1, 6, 15, 13, 20, 3, 2, 1, 2 },  // stride 2 over phases, odd input, 2 groups of 10 rows
        new[] { 3, 5, 11, 10, 12, 1, 2, 0, 1 },  // strided 1×1 (one stored phase), batch 3: threads take images
        new[] { 1, 3, 23, 21, 9, 7, 2, 3, 1 },   // a 7×7/2 stem with odd sizes
        new[] { 1, 9, 5, 33, 16, 3, 1, 1, 1 },   // one output row of 33: five row chunks, column tiles over a 35-wide grid
        new[] { 1, 16, 13, 40, 24, 5, 1, 2, 1 }, // column tiles at 3 threads: bands of 4, 4 and 5 output rows, each reading 4 rows below
        new[] { 1, 3, 6, 75, 8, 3, 2, 1, 1 },    // stride 2, rows wide enough for the vectorised phase split, odd padding
        new[] { 1, 4, 5, 70, 8, 1, 2, 0, 1 },    // strided 1×1 over wide rows: the even phase alone
        new[] { 1, 3, 9, 80, 8, 7, 2, 3, 1 },    // a wide 7×7/2 stem
        // Whole blocks of 16 input channels (8 in float64): the blocked input applies.
        new[] { 1, 32, 9, 17, 37, 3, 1, 1, 1 },  // two channel blocks, a partial block of outputs, row chunks 6 + 6 + 5
        new[] { 1, 16, 15, 13, 20, 3, 2, 1, 1 }, // stride 2 read from the blocked input directly (no phases), odd input
        new[] { 1, 32, 6, 40, 24, 3, 1, 1, 2 },  // 2 groups of 16 channels; rows of 40: 16 + 16 + 8 in the transposition
        new[] { 3, 16, 11, 10, 12, 1, 2, 0, 1 }, // strided 1×1 at batch 3
        new[] { 1, 16, 7, 23, 40, 5, 1, 2, 1 },  // 5×5, padding 2
        new[] { 1, 48, 4, 4, 33, 3, 1, 1, 1 },   // 4 × 4 outputs, 3 channel blocks, one output channel past two blocks
    };

    /// <summary>The packed forward's paths: column tiles, row tiles over padded planes, row tiles over the blocked input.</summary>
    private enum Tiles
    {
        Column,
        Row,
        Blocked,
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Both_tiles_match_the_float64_oracle_with_bias_residual_and_relu(int[] c)
    {
        var (x, w, b, stride, pad) = Operands(c, DType.Float64);
        var conv = ConvOracle.Conv2d(x, w, b, stride, pad, (1, 1), c[8]);
        var residual = TestTensors.Randn(4, DType.Float64, conv.Shape.ToArray());
        var packed = new PackedConv2dWeight(w, c[8]);
        foreach (int threads in new[] { 1, 3 })
        {
            GlobalSettings.WithThreads(threads, () =>
            {
                foreach (var tiles in Enum.GetValues<Tiles>())
                {
                    WithTiles(tiles, () =>
                    {
                        TensorAssert.Close(conv.Add(residual).Relu(), Functional.Conv2d(x, packed, b, stride, pad, (1, 1), Activation.Relu, residual), 1e-12, 1e-12);
                        TensorAssert.Close(conv.Sub(b.Reshape(1, c[4], 1, 1)), Functional.Conv2d(x, packed, null, stride, pad, (1, 1)), 1e-12, 1e-12);
                        TensorAssert.Close(conv.Tanh(), Functional.Conv2d(x, packed, b, stride, pad, (1, 1), Activation.Tanh), 1e-12, 1e-12);
                    });
                }
            });
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Row_tiles_give_the_bits_of_column_tiles_and_of_the_unpacked_kernel(int[] c)
    {
        var (x, w, b, stride, pad) = Operands(c, DType.Float32);
        var packed = new PackedConv2dWeight(w, c[8]);
        var residual = TestTensors.Randn(4, DType.Float32, Functional.Conv2d(x, w, b, stride, pad, (1, 1), c[8]).Shape.ToArray());
        GlobalSettings.WithThreads(2, () =>
        {
            Tensor Run(Tiles tiles) => WithTiles(tiles, () => Functional.Conv2d(x, packed, b, stride, pad, (1, 1), Activation.Relu, residual));
            var rows = Run(Tiles.Row);
            Assert.Equal(Run(Tiles.Column).ToArray<float>(), rows.ToArray<float>());
            Assert.Equal(Run(Tiles.Blocked).ToArray<float>(), rows.ToArray<float>());
            var saved = ConvKernels.ForcedAlgorithm;
            ConvKernels.ForcedAlgorithm = ConvAlgorithm.Direct;
            try
            {
                Assert.Equal(Functional.Conv2d(x, w, b, stride, pad, (1, 1), c[8], Activation.Relu, residual).ToArray<float>(), rows.ToArray<float>());
            }
            finally
            {
                ConvKernels.ForcedAlgorithm = saved;
            }
        });
    }

    [Theory]
    [InlineData(32, 3, 1, 1, true, true)]   // whole blocks of 16 (float) and 8 (double)
    [InlineData(16, 3, 2, 1, true, true)]   // stride 2
    [InlineData(32, 1, 2, 2, true, true)]   // 2 groups of 16 channels, a strided 1×1
    [InlineData(24, 3, 1, 1, false, true)]  // 24 channels: whole blocks of 8, not of 16
    [InlineData(3, 7, 2, 1, false, false)]  // a 3-channel stem
    [InlineData(32, 3, 3, 1, false, false)] // stride 3: no pixel step for it
    public void The_blocked_input_is_taken_where_input_channels_fill_whole_vectors(int channels, int kernel, int stride, int groups, bool inFloat, bool inDouble)
    {
        int size = 12, outSize = (size + 2 * (kernel / 2) - kernel) / stride + 1;
        var g = new Conv2dGeometry(1, channels, size, size, 8 * groups, outSize, outSize, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1, 1, groups);
        Assert.True(DirectConv<float>.AppliesPacked(g));
        Assert.Equal(inFloat, DirectConv<float>.UsesBlocked(g));
        Assert.Equal(inDouble, DirectConv<double>.UsesBlocked(g));
        Assert.False(WithTiles(Tiles.Row, () => DirectConv<float>.UsesBlocked(g) || DirectConv<double>.UsesBlocked(g)));
        Assert.False(WithTiles(Tiles.Column, () => DirectConv<float>.UsesBlocked(g) || DirectConv<double>.UsesBlocked(g)));
    }

    [Fact]
    public void The_relu_epilogue_keeps_nan_as_the_separate_relu_does()
    {
        var x = TestTensors.Randn(1, DType.Float32, 1, 16, 6, 40);
        var data = (float[])x.Storage.RawArray;
        data[3 * 6 * 40 + 2 * 40 + 17] = float.NaN; // one pixel: every output whose window covers it is NaN
        var w = TestTensors.Randn(2, DType.Float32, 5, 16, 3, 3);
        var packed = new PackedConv2dWeight(w);
        var expected = Functional.Conv2d(x, w, null, padding: 1).Relu().ToArray<float>();
        Assert.Contains(expected, float.IsNaN);
        foreach (var tiles in Enum.GetValues<Tiles>())
        {
            var actual = WithTiles(tiles, () => Functional.Conv2d(x, packed, null, (1, 1), (1, 1), (1, 1), Activation.Relu)).ToArray<float>();
            Assert.Equal(expected.Select(float.IsNaN), actual.Select(float.IsNaN));
            Assert.Equal(expected.Where(v => !float.IsNaN(v)), actual.Where(v => !float.IsNaN(v)));
        }
        var packed16 = new PackedConv2dWeight(w.Repeat(4, 1, 1, 1).Narrow(0, 0, 16));
        var expected16 = Functional.Conv2d(x, packed16.Weight, null, padding: 1).Relu().ToArray<float>();
        var blocked = Functional.FromChannelBlocks(Functional.Conv2dBlocked(Functional.ToChannelBlocks(x, 16), packed16, null, (1, 1), (1, 1), (1, 1), Activation.Relu))
            .ToArray<float>();
        Assert.Equal(expected16.Select(float.IsNaN), blocked.Select(float.IsNaN));
        Assert.Equal(expected16.Where(v => !float.IsNaN(v)), blocked.Where(v => !float.IsNaN(v)));
    }

    // N, C, H, W, OutC, k, stride, pad, groups: whole blocks of 16 (and so of 8) input and output channels per group.
    public static TheoryData<int[]> BlockedCases => new()
    {
        new[] { 1, 32, 9, 17, 64, 3, 1, 1, 1 },  // two blocks in, four out; row chunks 6 + 6 + 5
        new[] { 1, 16, 15, 13, 48, 3, 2, 1, 1 }, // stride 2, odd input; 48 outputs: a last pair of blocks with one block
        new[] { 1, 32, 6, 40, 32, 3, 1, 1, 2 },  // 2 groups of 16 channels in and out
        new[] { 3, 16, 11, 10, 32, 1, 2, 0, 1 }, // strided 1×1 at batch 3: threads take images
        new[] { 1, 16, 7, 23, 16, 5, 1, 2, 1 },  // 5×5, padding 2, one block out
        new[] { 1, 48, 4, 4, 64, 3, 1, 1, 1 },   // 4 × 4 outputs, three blocks in
        // Unpadded, read in place (no padding copy); at 3 threads split by output rows, the last by blocks (weights > 640 KB).
        new[] { 1, 32, 13, 11, 64, 1, 2, 0, 1 }, // a strided 1×1 at batch 1, odd input
        new[] { 1, 32, 5, 9, 32, 1, 1, 0, 1 },   // a 1×1 at stride 1
        new[] { 1, 32, 6, 7, 32, 1, 2, 0, 2 },   // 2 groups, strided 1×1
        new[] { 1, 512, 5, 5, 352, 1, 2, 0, 1 }, // a strided 1×1 too wide for the row split
    };

    [Theory]
    [MemberData(nameof(BlockedCases))]
    public void The_blocked_layout_matches_the_float64_oracle_with_bias_residual_and_relu(int[] c)
    {
        Assert.Equal(Vector512.IsHardwareAccelerated ? 8 : 0, Functional.Conv2dChannelBlock(DType.Float64));
        Assert.Equal(Vector512.IsHardwareAccelerated ? 16 : 0, Functional.Conv2dChannelBlock(DType.Float32));
        AssertBlockedMatchesOracle(c, (x, packed, b, stride, pad, block, activation, residual) =>
            Functional.Conv2dBlocked(Functional.ToChannelBlocks(x, block), packed, b, stride, pad, (1, 1), activation, residual));
    }

    /// <summary>
    /// A convolution into blocks (<paramref name="conv"/>: x NCHW, the block, bias, activation, blocked residual) against
    /// the float64 oracle at 1 and 3 threads: with bias, residual and ReLU, without bias, with Tanh. The machine's block
    /// (the direct kernel) where there is one, else blocks of 8 (the reordering fallback).
    /// </summary>
    private static void AssertBlockedMatchesOracle(int[] c,
        Func<Tensor, PackedConv2dWeight, Tensor?, (int, int), (int, int), int, Activation, Tensor?, Tensor> conv)
    {
        var (x, w, b, stride, pad) = Operands(c, DType.Float64);
        var expected = ConvOracle.Conv2d(x, w, b, stride, pad, (1, 1), c[8]);
        var residual = TestTensors.Randn(4, DType.Float64, expected.Shape.ToArray());
        var packed = new PackedConv2dWeight(w, c[8]);
        int block = Functional.Conv2dChannelBlock(DType.Float64) is > 0 and var lanes ? lanes : 8;
        var rb = Functional.ToChannelBlocks(residual, block);
        foreach (int threads in new[] { 1, 3 })
        {
            GlobalSettings.WithThreads(threads, () =>
            {
                var y = conv(x, packed, b, stride, pad, block, Activation.Relu, rb);
                Assert.Equal(new Shape(c[0], c[4] / block, expected.Shape[2], expected.Shape[3], block), y.Shape);
                TensorAssert.Close(expected.Add(residual).Relu(), Functional.FromChannelBlocks(y), 1e-12, 1e-12);
                TensorAssert.Close(expected.Sub(b.Reshape(1, c[4], 1, 1)), Functional.FromChannelBlocks(conv(x, packed, null, stride, pad, block, Activation.None, null)), 1e-12, 1e-12);
                TensorAssert.Close(expected.Tanh(), Functional.FromChannelBlocks(conv(x, packed, b, stride, pad, block, Activation.Tanh, null)), 1e-12, 1e-12);
            });
        }
    }

    [Theory]
    [MemberData(nameof(BlockedCases))]
    public void The_blocked_layout_gives_the_bits_of_the_nchw_convolution(int[] c) =>
        AssertBlockedGivesNchwBits(c, Tiles.Blocked, g => DirectConv<float>.AppliesBlockedLayout(g), (x, packed, b, stride, pad, block, residual) =>
            Functional.Conv2dBlocked(Functional.ToChannelBlocks(x, block), packed, b, stride, pad, (1, 1), Activation.Relu, residual));

    /// <summary>
    /// A float convolution into blocks (<paramref name="conv"/>, with ReLU) against the NCHW packed convolution on
    /// <paramref name="tiles"/>, bit for bit, at 1 and 3 threads: 16 channels a block, the direct kernel where it
    /// <paramref name="applies"/>; 8, the NCHW convolution and reorders.
    /// </summary>
    private static void AssertBlockedGivesNchwBits(int[] c, Tiles tiles, Func<Conv2dGeometry, bool> applies,
        Func<Tensor, PackedConv2dWeight, Tensor, (int, int), (int, int), int, Tensor, Tensor> conv)
    {
        var (x, w, b, stride, pad) = Operands(c, DType.Float32);
        var packed = new PackedConv2dWeight(w, c[8]);
        var residual = TestTensors.Randn(4, DType.Float32, Functional.Conv2d(x, w, b, stride, pad, (1, 1), c[8]).Shape.ToArray());
        var g = new Conv2dGeometry(c[0], c[1], c[2], c[3], c[4], residual.Shape[2], residual.Shape[3], c[5], c[5], c[6], c[6], c[7], c[7], 1, 1, c[8]);
        Assert.Equal(Vector512.IsHardwareAccelerated, applies(g));
        foreach (int block in new[] { 16, 8 })
            foreach (int threads in new[] { 1, 3 })
                GlobalSettings.WithThreads(threads, () =>
                {
                    var expected = WithTiles(tiles, () => Functional.Conv2d(x, packed, b, stride, pad, (1, 1), Activation.Relu, residual));
                    var y = WithTiles(tiles, () => conv(x, packed, b, stride, pad, block, Functional.ToChannelBlocks(residual, block)));
                    Assert.Equal(expected.ToArray<float>(), Functional.FromChannelBlocks(y).ToArray<float>());
                });
    }

    // N, C, H, W, OutC, k, stride, pad, groups: NCHW input of any channel count, whole blocks of 16 (and 8) outputs per group.
    public static TheoryData<int[]> IntoBlocksCases => new()
    {
        new[] { 1, 3, 23, 21, 32, 7, 2, 3, 1 }, // a 7×7/2 stem with odd sizes, over the stride phases; two blocks out
        new[] { 1, 3, 9, 80, 16, 7, 2, 3, 1 },  // a wide stem: rows of 37 outputs in chunks of 8 and 7, one block out
        new[] { 1, 5, 11, 13, 48, 3, 1, 1, 1 }, // stride 1 on the padded planes; a last pair of blocks with one block
        new[] { 1, 6, 10, 9, 32, 5, 2, 2, 2 },  // 2 groups of 3 channels in, 16 out each
        new[] { 3, 3, 12, 11, 16, 3, 2, 1, 1 }, // batch 3: threads take images
        new[] { 1, 16, 7, 9, 32, 3, 1, 1, 1 },  // whole input blocks: reordered internally, then the blocked row tiles
    };

    [Theory]
    [MemberData(nameof(IntoBlocksCases))]
    public void A_convolution_from_nchw_into_blocks_matches_the_float64_oracle_with_bias_residual_and_relu(int[] c) =>
        AssertBlockedMatchesOracle(c, (x, packed, b, stride, pad, block, activation, residual) =>
            Functional.Conv2dIntoBlocks(x, packed, b, stride, pad, (1, 1), block, activation, residual));

    [Theory]
    [MemberData(nameof(IntoBlocksCases))]
    public void A_convolution_from_nchw_into_blocks_gives_the_bits_of_the_nchw_convolution(int[] c) =>
        // The row tiles that write blocks against column tiles (the NCHW stem's).
        AssertBlockedGivesNchwBits(c, Tiles.Column, g => DirectConv<float>.AppliesBlockedOutput(g), (x, packed, b, stride, pad, block, residual) =>
            Functional.Conv2dIntoBlocks(x, packed, b, stride, pad, (1, 1), block, Activation.Relu, residual));

    [Fact]
    public void A_convolution_into_blocks_rejects_bad_shapes()
    {
        var packed = new PackedConv2dWeight(TestTensors.Randn(2, DType.Float64, 16, 3, 3, 3));
        var x = TestTensors.Randn(1, DType.Float64, 1, 3, 6, 5);
        // A blocked input, 16 outputs in blocks of 3, a residual of the wrong shape.
        Assert.Throws<ArgumentException>(() => Functional.Conv2dIntoBlocks(x.Unsqueeze(4), packed, null, (1, 1), (1, 1), (1, 1), 8));
        Assert.Throws<ArgumentException>(() => Functional.Conv2dIntoBlocks(x, packed, null, (1, 1), (1, 1), (1, 1), 3));
        Assert.Throws<ArgumentException>(() => Functional.Conv2dIntoBlocks(x, packed, null, (1, 1), (1, 1), (1, 1), 8, Activation.None,
            Tensor.Zeros(new Shape(1, 2, 6, 5, 4), DType.Float64)));
    }

    [Fact]
    public void Channel_blocks_put_channel_c_at_block_c_div_b_lane_c_mod_b_and_back()
    {
        var x = Tensor.Arange(0, 2 * 6 * 2 * 3, 1, DType.Float32).Reshape(2, 6, 2, 3);
        var xb = Functional.ToChannelBlocks(x, 3);
        Assert.Equal(new Shape(2, 2, 2, 3, 3), xb.Shape);
        var values = xb.ToArray<float>();
        for (int n = 0; n < 2; n++)
            for (int ch = 0; ch < 6; ch++)
                for (int h = 0; h < 2; h++)
                    for (int w = 0; w < 3; w++)
                        Assert.Equal(((n * 6 + ch) * 2 + h) * 3 + w, values[(((n * 2 + ch / 3) * 2 + h) * 3 + w) * 3 + ch % 3]);
        Assert.Equal(x.ToArray<float>(), Functional.FromChannelBlocks(xb).ToArray<float>());
        // 16 float channels (transposed in registers with AVX-512): planes of 35 (two 16 × 16 blocks and a ragged one), batch 2.
        var wide = TestTensors.Randn(5, DType.Float32, 2, 48, 5, 7);
        Assert.Equal(wide.Reshape(2, 3, 16, 5, 7).Permute(0, 1, 3, 4, 2).Contiguous().ToArray<float>(), Functional.ToChannelBlocks(wide, 16).ToArray<float>());
        Assert.Equal(wide.ToArray<float>(), Functional.FromChannelBlocks(Functional.ToChannelBlocks(wide, 16)).ToArray<float>());
        Assert.Throws<ArgumentException>(() => Functional.ToChannelBlocks(x, 4));
        Assert.Throws<ArgumentException>(() => Functional.FromChannelBlocks(x));
        var packed = new PackedConv2dWeight(Tensor.Randn(new Shape(4, 6, 1, 1), new Loom.Random.Generator(1)));
        // 4 output channels do not fill blocks of 3; a residual of the wrong shape.
        Assert.Throws<ArgumentException>(() => Functional.Conv2dBlocked(xb, packed, null, (1, 1), (0, 0), (1, 1)));
        var packed6 = new PackedConv2dWeight(Tensor.Randn(new Shape(6, 6, 1, 1), new Loom.Random.Generator(2)));
        Assert.Throws<ArgumentException>(() => Functional.Conv2dBlocked(xb, packed6, null, (1, 1), (0, 0), (1, 1), Activation.None, xb.Narrow(4, 0, 2)));
    }

    [Fact]
    public void The_blocked_convolutions_take_gradients_through_the_nchw_one()
    {
        int block = 8;
        AssertGradientsOfNchwConv(16, (x, packed) => Functional.Conv2dBlocked(Functional.ToChannelBlocks(x, block), packed, null, (2, 2), (1, 1), (1, 1), Activation.Relu));
        AssertGradientsOfNchwConv(3, (x, packed) => Functional.Conv2dIntoBlocks(x, packed, null, (2, 2), (1, 1), (1, 1), block, Activation.Relu));
    }

    /// <summary>Gradients of Σ y² through a blocked convolution (<paramref name="conv"/>, 3×3/2, pad 1, ReLU) equal the NCHW convolution's.</summary>
    private static void AssertGradientsOfNchwConv(int channels, Func<Tensor, PackedConv2dWeight, Tensor> conv)
    {
        var x = TestTensors.Randn(1, DType.Float64, 1, channels, 5, 6).RequiresGrad_();
        var w = TestTensors.Randn(2, DType.Float64, 16, channels, 3, 3).RequiresGrad_();
        Functional.FromChannelBlocks(conv(x, new PackedConv2dWeight(w))).Square().Sum().Backward();
        var (gx, gw) = (x.Grad!.Clone(), w.Grad!.Clone());
        x.Grad = null;
        w.Grad = null;
        Functional.Conv2d(x, w, null, (2, 2), (1, 1), (1, 1), 1, Activation.Relu).Square().Sum().Backward();
        TensorAssert.Close(x.Grad!, gx, 1e-12, 1e-12);
        TensorAssert.Close(w.Grad!, gw, 1e-12, 1e-12);
    }

    /// <summary>A case's input, weight and bias (seeds 1, 2, 3) in <paramref name="dtype"/>, with its stride and padding.</summary>
    private static (Tensor X, Tensor W, Tensor B, (int, int) Stride, (int, int) Pad) Operands(int[] c, DType dtype) =>
        (TestTensors.Randn(1, dtype, c[0], c[1], c[2], c[3]), TestTensors.Randn(2, dtype, c[4], c[1] / c[8], c[5], c[5]), TestTensors.Randn(3, dtype, c[4]),
         (c[6], c[6]), (c[7], c[7]));

    private static void WithTiles(Tiles tiles, Action action) => WithTiles(tiles, () =>
    {
        action();
        return 0;
    });

    private static TResult WithTiles<TResult>(Tiles tiles, Func<TResult> action)
    {
        var saved = (DirectConv<float>.ForcedRowTiles, DirectConv<double>.ForcedRowTiles, DirectConv<float>.ForcedBlocked, DirectConv<double>.ForcedBlocked);
        DirectConv<float>.ForcedRowTiles = DirectConv<double>.ForcedRowTiles = tiles != Tiles.Column;
        DirectConv<float>.ForcedBlocked = DirectConv<double>.ForcedBlocked = tiles == Tiles.Blocked;
        try
        {
            return action();
        }
        finally
        {
            (DirectConv<float>.ForcedRowTiles, DirectConv<double>.ForcedRowTiles, DirectConv<float>.ForcedBlocked, DirectConv<double>.ForcedBlocked) = saved;
        }
    }
}
