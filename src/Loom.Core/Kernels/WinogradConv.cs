namespace Loom.Kernels;

// Winograd F(2×2, 3×3) for 3×3, stride-1, dilation-1 convolutions on the blocked-channel layout (NCHWc, 16 float
// channels a block), inference only. Each 2 × 2 block of outputs ("tile") reads a 4 × 4 input patch d; with
// V = Bᵀ·d·B per input channel, U = G·g·Gᵀ per (output, input) channel pair and M = Σ_c U ⊙ V, the outputs are Aᵀ·M·A.
// The sum over channels is, for each of the 16 points ξ of the 4 × 4 transform, one GEMM [tiles × Cin]·[Cin × Cout]:
// 16 · Cin · Cout multiply-adds per tile against the direct convolution's 36 · Cin · Cout (2.25× fewer), plus
// transforms that are vector additions over whole registers (16 lanes = 16 channels of one pixel).
//
// Work goes in blocks of tiles whose transformed input and output (16 points × tiles × channels each) mostly stay in
// L2 while the 16 GEMMs run; the GEMMs run on the right operands packed once (PackedGemmB: U per point), by GEMM's
// own driver or, on AVX-512, by its micro-kernel reading V as the input transform wrote it (WinogradConv.Gemm.cs).
// Where there are enough tiles each thread takes an equal range of them, in blocks (input transform, 16 GEMMs,
// output transform with bias, residual and ReLU); where they make one block, each thread its share of the output
// channels; otherwise each block's three phases are split over the threads.
//
// Numerics: the transforms round differently from the direct sum, so outputs differ from the direct kernel's by a few
// units in the last place of the sum's magnitude (docs/notes/conv.md, "Winograd"): Loom differs from the direct path
// on purpose where this runs.
internal static unsafe partial class WinogradConv
{
    private const int Lanes = 16;

    /// <summary>Points of the 4 × 4 transformed tile: one GEMM each.</summary>
    private const int Points = 16;

    /// <summary>Bytes of one block's transformed input and output together: most of a 1 MiB L2, beside a GEMM's B block streaming through.</summary>
    private const int BlockBytes = 1536 * 1024;

    /// <summary>Rows of the GEMM's register tile (12 on AVX-512): a block is a whole number of them where it can be.</summary>
    private const int RowTile = 12;

    /// <summary>
    /// Whether the Winograd kernel can compute this convolution: float on the blocked layout of 16 channels (Vector512),
    /// one group, whole blocks in and out, a 3 × 3 kernel at stride 1 and dilation 1, padding at most 2.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        Vector512.IsHardwareAccelerated && g.Groups == 1 && g.InChannels % Lanes == 0 && g.OutChannels % Lanes == 0
        && g.KernelH == 3 && g.KernelW == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilationH == 1 && g.DilationW == 1
        && g.PadH is >= 0 and <= 2 && g.PadW is >= 0 and <= 2
        && g.OutHeight == g.Height + 2 * g.PadH - 2 && g.OutWidth == g.Width + 2 * g.PadW - 2 && g.OutHeight > 0 && g.OutWidth > 0;

    /// <summary>
    /// Whether to take it rather than the direct kernel (<see cref="ConvKernels.ForcedAlgorithm"/> forces either): 64
    /// channels or more in and out. Measured on ResNet18's layers (batch 1, docs/notes/conv.md, "Session 29"): Winograd
    /// took 0.54–0.62 of the direct kernel's time from 128 channels at one thread (0.72–0.86 at 512 → 512 on 7 × 7, whose
    /// 16.8 MB of transformed weights come from memory) and 0.54–0.84 at two; the whole model gained from it at 64
    /// channels too, at one and two threads. Narrower layers were not measured and stay direct.
    /// </summary>
    public static bool Chooses(in Conv2dGeometry g) => ConvKernels.ForcedAlgorithm switch
    {
        ConvAlgorithm.Winograd => Applies(g),
        ConvAlgorithm.Auto => Applies(g) && g.InChannels >= 64 && g.OutChannels >= 64,
        _ => false,
    };

    /// <summary>The transformed weights: U_ξ [Cin × Cout] per point ξ, packed as GEMM's right operand.</summary>
    internal sealed class Weights
    {
        public Weights(ReadOnlySpan<float> w, int outChannels, int inChannels)
        {
            OutChannels = outChannels;
            InChannels = inChannels;
            var u = new float[Points][];
            for (int p = 0; p < Points; p++) u[p] = GC.AllocateUninitializedArray<float>(inChannels * outChannels);
            Span<double> t = stackalloc double[12];
            for (int k = 0; k < outChannels; k++)
                for (int c = 0; c < inChannels; c++)
                {
                    var g = w.Slice((k * inChannels + c) * 9, 9);
                    // t = G·g (4 × 3), then u = t·Gᵀ (4 × 4), in double: the transformed weight rounds once.
                    for (int j = 0; j < 3; j++)
                    {
                        double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                        t[j] = g0;
                        t[3 + j] = 0.5 * (g0 + g1 + g2);
                        t[6 + j] = 0.5 * (g0 - g1 + g2);
                        t[9 + j] = g2;
                    }
                    for (int i = 0; i < 4; i++)
                    {
                        double a0 = t[3 * i], a1 = t[3 * i + 1], a2 = t[3 * i + 2];
                        int at = c * outChannels + k;
                        u[4 * i][at] = (float)a0;
                        u[4 * i + 1][at] = (float)(0.5 * (a0 + a1 + a2));
                        u[4 * i + 2][at] = (float)(0.5 * (a0 - a1 + a2));
                        u[4 * i + 3][at] = (float)a2;
                    }
                }
            Packed = new PackedGemmB<float>[Points];
            for (int p = 0; p < Points; p++) Packed[p] = new PackedGemmB<float>(false, u[p], inChannels, outChannels, outChannels);
        }

        public int OutChannels { get; }
        public int InChannels { get; }
        public PackedGemmB<float>[] Packed { get; }

        /// <summary>Whether GEMM would run these panels now (its path and depth block can be forced in tests).</summary>
        public bool Matches => Packed[0].Matches;
    }

    private readonly record struct Job(nint Input, nint Output, nint Residual, nint Bias, Weights U, Conv2dGeometry G, bool Relu,
        int TilesH, int TilesW, int Total, int Block, bool ByChannelBlocks);

    /// <summary>
    /// y = relu?(conv3×3(x, w) + bias + residual) on [N, C / 16, H, W, 16] in and out (residual in the output's layout;
    /// empty bias or residual adds nothing). Requires <see cref="Applies"/>.
    /// </summary>
    public static void Forward(ReadOnlyMemory<float> input, Weights u, ReadOnlyMemory<float> bias, in Conv2dGeometry g, Memory<float> output,
        ReadOnlyMemory<float> residual, bool relu)
    {
        if (!Applies(g) || u.InChannels != g.InChannels || u.OutChannels != g.OutChannels)
            throw new ArgumentException("conv2d: this convolution does not run on the Winograd kernel");
        int tilesH = (g.OutHeight + 1) / 2, tilesW = (g.OutWidth + 1) / 2, total = g.Batch * tilesH * tilesW, threads = Threads.Count;
        // As many tiles per block as BlockBytes holds.
        int budget = Math.Max(RowTile, BlockBytes / (Points * (g.InChannels + g.OutChannels) * sizeof(float)));
        // Threads take ranges of tiles (no synchronisation between the phases) where each gets at least two
        // register-tile rows of them; otherwise, unless the output channels can be split (below), each block's phases.
        bool byBlocks = threads == 1 || total >= 2 * RowTile * threads;
        using var pin = input.Pin();
        using var pout = output.Pin();
        using var pres = residual.Pin();
        using var pbias = bias.Pin();
        // The transformed input in the layout the micro-kernel reads where GEMM runs AVX-512's (see MultiplyBlocked).
        var job = new Job((nint)pin.Pointer, (nint)pout.Pointer, residual.IsEmpty ? 0 : (nint)pres.Pointer, bias.IsEmpty ? 0 : (nint)pbias.Pointer,
            u, g, relu, tilesH, tilesW, total, byBlocks ? budget : Math.Min(total, budget), u.Packed[0].Path == GemmPath.Avx512);
        int panels = (g.OutChannels + Columns - 1) / Columns;
        if (threads > 1 && job.ByChannelBlocks && BlocksOf(total, budget) == 1 && panels >= threads)
        {
            // Tiles for one block only (ResNet18's 14 × 14 and 7 × 7 stages): each thread transforms the whole input
            // (a few percent of the work) and computes its share of the output channels, so it reads only its columns
            // of the transformed weights (4.2 and 16.8 MB there), with no synchronisation between the phases.
            ParallelHelper.For(threads, 1, (Job: job, Ranges: threads, Panels: panels), static (s, first, end) =>
            {
                var j = s.Job;
                var (v, m) = Rent(j, j.Total);
                try
                {
                    fixed (float* rv = v, rm = m)
                    {
                        float* pv = Align(rv), pm = Align(rm);
                        InputTransform(j, pv, 0, j.Total, 0, j.G.InChannels / Lanes);
                        int blocksOut = j.G.OutChannels / Lanes, perPanel = Columns / Lanes;
                        for (int range = first; range < end; range++)
                        {
                            int p0 = s.Panels * range / s.Ranges, p1 = s.Panels * (range + 1) / s.Ranges;
                            Multiply(j, pv, pm, j.Total, 0, Points, p0, p1);
                            OutputTransform(j, pm, 0, j.Total, Math.Min(blocksOut, p0 * perPanel), Math.Min(blocksOut, p1 * perPanel));
                        }
                    }
                }
                finally
                {
                    Return(v, m);
                }
            });
            return;
        }
        if (byBlocks)
        {
            // Each thread one contiguous range of tiles, equal to a register-tile row (the last range ends in the partial
            // row): with blocks dealt out whole, 196 tiles (128 × 28²) went 120 : 76 over two threads.
            ParallelHelper.For(threads, 1, (Job: job, Ranges: threads), static (s, first, end) =>
            {
                int rows = (s.Job.Total + RowTile - 1) / RowTile;
                for (int range = first; range < end; range++)
                {
                    int t0 = (int)((long)rows * range / s.Ranges) * RowTile;
                    int t1 = Math.Min(s.Job.Total, (int)((long)rows * (range + 1) / s.Ranges) * RowTile);
                    if (t1 > t0) RunRange(s.Job, t0, t1);
                }
            });
            return;
        }
        int block = job.Block;
        var (vs, ms) = Rent(job, block);
        try
        {
            fixed (float* rv = vs, rm = ms)
            {
                for (int t0 = 0; t0 < total; t0 += block)
                {
                    // Each phase split over the threads: channel blocks, then points (each thread reads only its points'
                    // share of the transformed weights: 16.8 MB at 512 → 512), then output channel blocks.
                    var phase = (Job: job, V: (nint)Align(rv), M: (nint)Align(rm), T0: t0, Count: Math.Min(block, total - t0));
                    ParallelHelper.For(g.InChannels / Lanes, 1, phase, static (s, first, end) => InputTransform(s.Job, (float*)s.V, s.T0, s.Count, first, end));
                    ParallelHelper.For(Points, 1, phase, static (s, first, end) => Multiply(s.Job, (float*)s.V, (float*)s.M, s.Count, first, end));
                    ParallelHelper.For(g.OutChannels / Lanes, 1, phase, static (s, first, end) => OutputTransform(s.Job, (float*)s.M, s.T0, s.Count, first, end));
                }
            }
        }
        finally
        {
            Return(vs, ms);
        }
    }

    /// <summary>
    /// Tiles [t0, t1) on the calling thread, in blocks of at most <see cref="Job.Block"/> tiles, as equal as whole
    /// register-tile rows allow without adding a block.
    /// </summary>
    private static void RunRange(in Job j, int t0, int t1)
    {
        // The nearest number of blocks, not the next: a block up to half again as large as the budget (measured no
        // slower up to 3 MB) rather than a second pass over the transformed weights (256 × 14²: 49 tiles, 48 budgeted).
        int count = t1 - t0, blocks = BlocksOf(count, j.Block), block = (count + blocks - 1) / blocks;
        int rounded = (block + RowTile - 1) / RowTile * RowTile;
        if ((count + rounded - 1) / rounded == blocks) block = rounded;
        var (v, m) = Rent(j, block);
        try
        {
            fixed (float* rv = v, rm = m)
            {
                float* pv = Align(rv), pm = Align(rm);
                for (int start = t0; start < t1; start += block)
                {
                    int n = Math.Min(block, t1 - start);
                    InputTransform(j, pv, start, n, 0, j.G.InChannels / Lanes);
                    Multiply(j, pv, pm, n, 0, Points);
                    OutputTransform(j, pm, start, n, 0, j.G.OutChannels / Lanes);
                }
            }
        }
        finally
        {
            Return(v, m);
        }
    }

    /// <summary>Blocks for <paramref name="tiles"/> tiles at <paramref name="budget"/> a block: the nearest number, at least one.</summary>
    private static int BlocksOf(int tiles, int budget) => Math.Max(1, (tiles + budget / 2) / budget);

    /// <summary>
    /// Elements between two points' matrices of a block: one cache line more than the matrix, so that the 16 lines a
    /// transform reads or writes for one tile do not fall into one L1 set when the matrix is a multiple of 4 KiB
    /// (ResNet18's 7 × 7 stage: 16 tiles × 512 channels).
    /// </summary>
    private static nint Slab(int tiles, int channels) => (nint)tiles * channels + Lanes;

    /// <summary>Buffers for a block's transformed input and output, a line longer for <see cref="Align"/>.</summary>
    private static (float[] V, float[] M) Rent(in Job j, int tiles) =>
        (ArrayPool<float>.Shared.Rent((int)(Points * InputSlab(j, tiles)) + Lanes), ArrayPool<float>.Shared.Rent((int)(Points * Slab(tiles, j.G.OutChannels)) + Lanes));

    /// <summary>
    /// <see cref="Slab"/> of the transformed input: by channel blocks, each of whole register-tile rows of tiles (the
    /// kernel reads a whole row tile; the rows past the block's tiles are zeros).
    /// </summary>
    private static nint InputSlab(in Job j, int tiles) => Slab(j.ByChannelBlocks ? RowsOf(tiles) : tiles, j.G.InChannels);

    /// <summary>Tiles rounded up to whole register-tile rows.</summary>
    private static int RowsOf(int tiles) => (tiles + RowTile - 1) / RowTile * RowTile;

    /// <summary>The first 64-byte boundary in a rented buffer: whole-line vector loads and stores.</summary>
    private static float* Align(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    private static void Return(float[] v, float[] m)
    {
        ArrayPool<float>.Shared.Return(v);
        ArrayPool<float>.Shared.Return(m);
    }

    /// <summary>M_ξ [count × Cout] = V_ξ [count × Cin] · U_ξ for points [first, end).</summary>
    private static void Multiply(in Job j, float* v, float* m, int count, int first, int end, int firstPanel = 0, int endPanel = int.MaxValue)
    {
        int cin = j.G.InChannels, cout = j.G.OutChannels;
        nint slabIn = InputSlab(j, count), slabOut = Slab(count, cout);
        for (int p = first; p < end; p++)
        {
            if (j.ByChannelBlocks)
                MultiplyBlocked(count, v + p * slabIn, (nint)RowsOf(count) * Lanes, j.U.Packed[p], m + p * slabOut, cout, firstPanel, endPanel);
            else
                j.U.Packed[p].Multiply(count, new ReadOnlySpan<float>(v + p * slabIn, count * cin), cin, new Span<float>(m + p * slabOut, count * cout), cout,
                    parallel: false);
        }
    }

    /// <summary>
    /// V[ξ][t][c] = (Bᵀ·d·B)[ξ] for tiles [t0, t0 + count) and input channel blocks [cb0, cb1), d the tile's 4 × 4 input
    /// patch (zero outside the image), Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputTransform(in Job j, float* v, int t0, int count, int cb0, int cb1)
    {
        var g = j.G;
        int h = g.Height, w = g.Width, cin = g.InChannels, perImage = j.TilesH * j.TilesW, blocksIn = cin / Lanes;
        nint slab = InputSlab(j, count), plane = (nint)h * w * Lanes, row = (nint)w * Lanes;
        // Tile t, channel block cb at v + t·perTile + cb·perBlock: by channel blocks (the GEMM kernel's layout, see
        // MultiplyBlocked) or row-major [tiles × channels] (GEMM's own A operand).
        nint perTile = j.ByChannelBlocks ? Lanes : cin, perBlock = j.ByChannelBlocks ? (nint)RowsOf(count) * Lanes : Lanes;
        float* x = (float*)j.Input;
        if (j.ByChannelBlocks && RowsOf(count) > count)
        {
            // The rows past the tiles, read by the kernel's last row tile into rows of M no one reads: zeros, not
            // whatever the rented buffer held (a NaN or a subnormal there would cost time, not results).
            for (int p = 0; p < Points; p++)
                for (int cb = cb0; cb < cb1; cb++)
                    new Span<float>(v + p * slab + cb * perBlock + (nint)count * Lanes, (RowsOf(count) - count) * Lanes).Clear();
        }
        for (int t = 0; t < count; t++)
        {
            int tile = t0 + t, n = tile / perImage, r = tile % perImage;
            int h0 = r / j.TilesW * 2 - g.PadH, w0 = r % j.TilesW * 2 - g.PadW;
            bool inside = h0 >= 0 && w0 >= 0 && h0 + 4 <= h && w0 + 4 <= w;
            float* dst = v + t * perTile + cb0 * perBlock;
            float* p = x + (nint)(n * blocksIn + cb0) * plane + ((nint)h0 * w + w0) * Lanes;
            for (int cb = cb0; cb < cb1; cb++, p += plane, dst += perBlock)
            {
                if (inside)
                {
                    Transform(dst, slab,
                        Vector512.Load(p), Vector512.Load(p + Lanes), Vector512.Load(p + 2 * Lanes), Vector512.Load(p + 3 * Lanes),
                        Vector512.Load(p + row), Vector512.Load(p + row + Lanes), Vector512.Load(p + row + 2 * Lanes), Vector512.Load(p + row + 3 * Lanes),
                        Vector512.Load(p + 2 * row), Vector512.Load(p + 2 * row + Lanes), Vector512.Load(p + 2 * row + 2 * Lanes), Vector512.Load(p + 2 * row + 3 * Lanes),
                        Vector512.Load(p + 3 * row), Vector512.Load(p + 3 * row + Lanes), Vector512.Load(p + 3 * row + 2 * Lanes), Vector512.Load(p + 3 * row + 3 * Lanes));
                    continue;
                }
                // A tile over the image's edge: the pixels outside read as zeros.
                Transform(dst, slab,
                    Edge(p, 0, 0, h0, w0, h, w, row), Edge(p, 0, 1, h0, w0, h, w, row), Edge(p, 0, 2, h0, w0, h, w, row), Edge(p, 0, 3, h0, w0, h, w, row),
                    Edge(p, 1, 0, h0, w0, h, w, row), Edge(p, 1, 1, h0, w0, h, w, row), Edge(p, 1, 2, h0, w0, h, w, row), Edge(p, 1, 3, h0, w0, h, w, row),
                    Edge(p, 2, 0, h0, w0, h, w, row), Edge(p, 2, 1, h0, w0, h, w, row), Edge(p, 2, 2, h0, w0, h, w, row), Edge(p, 2, 3, h0, w0, h, w, row),
                    Edge(p, 3, 0, h0, w0, h, w, row), Edge(p, 3, 1, h0, w0, h, w, row), Edge(p, 3, 2, h0, w0, h, w, row), Edge(p, 3, 3, h0, w0, h, w, row));
            }
        }
    }

    /// <summary>Pixel (h0 + i, w0 + k) of the plane whose pixel (h0, w0) is at <paramref name="p"/>, or zero outside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Edge(float* p, int i, int k, int h0, int w0, int h, int w, nint row) =>
        (uint)(h0 + i) < (uint)h && (uint)(w0 + k) < (uint)w ? Vector512.Load(p + i * row + k * Lanes) : Vector512<float>.Zero;

    /// <summary>Bᵀ·d·B of one channel block's 4 × 4 patch d (rows a, b, c, e), its 16 points stored <paramref name="slab"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transform(float* dst, nint slab,
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> b0, Vector512<float> b1, Vector512<float> b2, Vector512<float> b3,
        Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3,
        Vector512<float> e0, Vector512<float> e1, Vector512<float> e2, Vector512<float> e3)
    {
        // Rows first (Bᵀ·d), then columns (·B).
        Row(dst, slab, a0 - c0, a1 - c1, a2 - c2, a3 - c3);
        Row(dst + 4 * slab, slab, b0 + c0, b1 + c1, b2 + c2, b3 + c3);
        Row(dst + 8 * slab, slab, c0 - b0, c1 - b1, c2 - b2, c3 - b3);
        Row(dst + 12 * slab, slab, b0 - e0, b1 - e1, b2 - e2, b3 - e3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* dst, nint slab, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3)
    {
        (t0 - t2).Store(dst);
        (t1 + t2).Store(dst + slab);
        (t2 - t1).Store(dst + 2 * slab);
        (t1 - t3).Store(dst + 3 * slab);
    }

    /// <summary>
    /// The 2 × 2 outputs Aᵀ·M·A of tiles [t0, t0 + count), output channel blocks [kb0, kb1), Aᵀ = [1 1 1 0; 0 1 −1 −1],
    /// then bias, residual and ReLU in the direct kernel's order; outputs past the image's edge are not stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputTransform(in Job j, float* m, int t0, int count, int kb0, int kb1)
    {
        var g = j.G;
        int oh = g.OutHeight, ow = g.OutWidth, cout = g.OutChannels, perImage = j.TilesH * j.TilesW, blocksOut = cout / Lanes;
        nint slab = Slab(count, cout);
        float* y = (float*)j.Output, res = (float*)j.Residual, bias = (float*)j.Bias;
        bool hasBias = bias != null;
        for (int t = 0; t < count; t++)
        {
            int tile = t0 + t, n = tile / perImage, r = tile % perImage;
            int h0 = r / j.TilesW * 2, w0 = r % j.TilesW * 2;
            bool right = w0 + 1 < ow, below = h0 + 1 < oh;
            float* src = m + (nint)t * cout + kb0 * Lanes;
            nint at = ((nint)(n * blocksOut + kb0) * oh + h0) * ow + w0, plane = (nint)oh * ow;
            for (int kb = kb0; kb < kb1; kb++, src += Lanes, at += plane)
            {
                var b = hasBias ? Vector512.Load(bias + kb * Lanes) : Vector512<float>.Zero;
                // Rows first (Aᵀ·M): s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 over the rows of each column.
                var m0 = Vector512.Load(src); var m1 = Vector512.Load(src + slab); var m2 = Vector512.Load(src + 2 * slab); var m3 = Vector512.Load(src + 3 * slab);
                var m4 = Vector512.Load(src + 4 * slab); var m5 = Vector512.Load(src + 5 * slab); var m6 = Vector512.Load(src + 6 * slab); var m7 = Vector512.Load(src + 7 * slab);
                var m8 = Vector512.Load(src + 8 * slab); var m9 = Vector512.Load(src + 9 * slab); var m10 = Vector512.Load(src + 10 * slab); var m11 = Vector512.Load(src + 11 * slab);
                var m12 = Vector512.Load(src + 12 * slab); var m13 = Vector512.Load(src + 13 * slab); var m14 = Vector512.Load(src + 14 * slab); var m15 = Vector512.Load(src + 15 * slab);
                var s00 = m0 + m4 + m8; var s01 = m1 + m5 + m9; var s02 = m2 + m6 + m10; var s03 = m3 + m7 + m11;
                var s10 = m4 - m8 - m12; var s11 = m5 - m9 - m13; var s12 = m6 - m10 - m14; var s13 = m7 - m11 - m15;
                Store(y, res, at, s00 + s01 + s02, b, hasBias, j.Relu);
                if (right) Store(y, res, at + 1, s01 - s02 - s03, b, hasBias, j.Relu);
                if (below)
                {
                    Store(y, res, at + ow, s10 + s11 + s12, b, hasBias, j.Relu);
                    if (right) Store(y, res, at + ow + 1, s11 - s12 - s13, b, hasBias, j.Relu);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, float* residual, nint position, Vector512<float> v, Vector512<float> bias, bool hasBias, bool relu)
    {
        if (hasBias) v += bias;
        if (residual != null) v += Vector512.Load(residual + position * Lanes);
        if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
        v.Store(y + position * Lanes);
    }
}
