using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

// Blocked-channel input for the packed row tiles (NCHWc, as ONNX Runtime's MLAS keeps its activations): each padded
// image is stored as [channel block][padded row][padded column][Lanes channels], so the Lanes input values of one
// pixel share one cache line. A row tile broadcasts input pixels; on the grid of padded planes the pixels of one tap
// come from a different plane for every channel (a row tile over 64 channels touches ~200 lines scattered over
// 64 planes), here from the same lines for Lanes consecutive channels. Strided convolutions need no stride phases:
// output column ow reads pixel s·ow, a constant step of s·Lanes elements. The weights and the order of the sums are
// the row tile's, so the outputs are the same bits.
internal static unsafe partial class DirectConv<T>
{
    /// <summary>
    /// For tests and benchmarks: on the calling thread, turns the blocked input off (false) where it applies
    /// (<see cref="BlockedApplies"/>); null or true uses it there (unless column tiles are forced).
    /// </summary>
    internal static bool? ForcedBlocked
    {
        get => _forcedBlocked;
        set => _forcedBlocked = value;
    }

    [ThreadStatic]
    private static bool? _forcedBlocked;

    /// <summary>
    /// Whether the packed forward can read a blocked input: whole blocks of Lanes input channels per group (so no lane
    /// of a block is padding: a 3-channel stem would waste 13 of 16) and stride 1 or 2.
    /// </summary>
    private static bool BlockedApplies(in Conv2dGeometry g) => g.InPerGroup % Lanes == 0 && g.StrideW is 1 or 2;

    /// <summary>
    /// Whether <see cref="ForwardPacked"/> runs this convolution with input, residual and output all in the blocked
    /// layout [N][C / Lanes][H][W][Lanes]: a blocked input (above) and whole blocks of output channels per group.
    /// </summary>
    public static bool AppliesBlockedLayout(in Conv2dGeometry g) => AppliesBlockedOutput(g) && BlockedApplies(g);

    /// <summary>
    /// Whether <see cref="ForwardPacked"/> can write this convolution's output (and read its residual) in the blocked
    /// layout from an NCHW input: whole blocks of output channels per group. The row tiles then read the padded planes
    /// (or their stride phases) and store each position's channel vectors as they are: ResNet's 3-channel 7×7/2 stem,
    /// whose input cannot be blocked, so that the chain is blocked from the stem on.
    /// </summary>
    public static bool AppliesBlockedOutput(in Conv2dGeometry g) => AppliesPacked(g) && g.OutPerGroup % Lanes == 0;

    internal static bool UsesBlocked(in Conv2dGeometry g) =>
        BlockedApplies(g) && ForcedRowTiles != false && (ForcedBlocked ?? true);

    /// <summary>Elements of one image group's blocked, padded input (no tail: every window lies inside the padded image).</summary>
    private static int BlockedLength(in Layout l) => l.Channels * l.PaddedHeight * l.PaddedWidth;

    /// <summary>offsets[c·kH·kW + ki·kW + kj] = where tap (ki, kj) of channel c starts in the blocked image, relative to the output's window.</summary>
    private static void FillBlockedOffsets(in Layout l, Span<int> offsets)
    {
        int lanes = Lanes, blockPlane = l.PaddedHeight * l.PaddedWidth * lanes;
        for (int c = 0, k = 0; c < l.Channels; c++)
            for (int ki = 0; ki < l.KernelH; ki++)
                for (int kj = 0; kj < l.KernelW; kj++, k++)
                    offsets[k] = c / lanes * blockPlane + (ki * l.DilationH * l.PaddedWidth + kj * l.DilationW) * lanes + c % lanes;
    }

    /// <summary>
    /// Channel blocks [first, end) of one image group's planes into the blocked, zero-padded layout; from blocks
    /// already in that layout but unpadded (<paramref name="fromBlocks"/>), a copy of whole rows.
    /// </summary>
    private static void PadBlocked(ReadOnlySpan<T> planes, in Layout l, Span<T> padded, int first, int end, bool fromBlocks = false,
        int rowFirst = 0, int rowEnd = int.MaxValue)
    {
        int lanes = Lanes, wp = l.PaddedWidth, rowLength = wp * lanes, blockPlane = l.PaddedHeight * rowLength, plane = l.Height * l.Width;
        rowEnd = Math.Min(rowEnd, l.PaddedHeight);
        for (int cb = first; cb < end; cb++)
        {
            var block = padded.Slice(cb * blockPlane, blockPlane);
            // Padded rows [rowFirst, rowEnd) only: the zero rows among them, then the image rows.
            int top = Math.Min(l.PadH, rowEnd), bottom = Math.Max(l.PadH + l.Height, rowFirst);
            if (rowFirst < top) block[(rowFirst * rowLength)..(top * rowLength)].Clear();
            if (bottom < rowEnd) block[(bottom * rowLength)..(rowEnd * rowLength)].Clear();
            for (int h = Math.Max(0, rowFirst - l.PadH), hEnd = Math.Min(l.Height, rowEnd - l.PadH); h < hEnd; h++)
            {
                var row = block.Slice((l.PadH + h) * rowLength, rowLength);
                row[..(l.PadW * lanes)].Clear();
                row[((l.PadW + l.Width) * lanes)..].Clear();
                var inner = row.Slice(l.PadW * lanes, l.Width * lanes);
                if (fromBlocks)
                {
                    planes.Slice((cb * plane + h * l.Width) * lanes, l.Width * lanes).CopyTo(inner);
                    continue;
                }
                if (typeof(T) == typeof(float) && Avx512F.IsSupported)
                {
                    TransposeRows(MemoryMarshal.Cast<T, float>(planes), cb * lanes * plane + h * l.Width, plane, l.Width, MemoryMarshal.Cast<T, float>(inner));
                    continue;
                }
                for (int i = 0; i < lanes; i++)
                {
                    var src = planes.Slice((cb * lanes + i) * plane + h * l.Width, l.Width);
                    for (int w = 0; w < src.Length; w++) inner[w * lanes + i] = src[w];
                }
            }
        }
    }

    /// <summary>
    /// Planes [blocks·Lanes][plane] into blocks [blocks][plane][Lanes] (NCHW to the blocked layout), float with
    /// AVX-512 only (16 × 16 transpositions in registers), spread over the threads by blocks.
    /// </summary>
    internal static void ToBlocks(ReadOnlyMemory<float> planes, int blocks, int plane, Memory<float> dst)
    {
        if (!Avx512F.IsSupported) throw new PlatformNotSupportedException("the blocked reorder needs AVX-512");
        int grain = Math.Max(1, (1 << 16) / Math.Max(1, plane * 16));
        ParallelHelper.For(blocks, grain, (Planes: planes, Plane: plane, Dst: dst), static (s, first, end) =>
        {
            for (int cb = first; cb < end; cb++)
                TransposeRows(s.Planes.Span, cb * 16 * s.Plane, s.Plane, s.Plane, s.Dst.Span.Slice(cb * s.Plane * 16, s.Plane * 16));
        });
    }

    /// <summary>
    /// dst[w·16 + i] = src[start + i·stride + w] for 16 rows i and <paramref name="width"/> columns w: 16 × 16 blocks
    /// transposed in registers (a scalar scatter cost as much as a 1×1 convolution's product): unpacked by pairs, then
    /// by pairs of pairs, then two rounds of 128-bit lane shuffles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeRows(ReadOnlySpan<float> src, int start, int stride, int width, Span<float> dst)
    {
        float* stage = stackalloc float[16 * 16];
        fixed (float* sp = src, dp = dst)
        {
            for (int w0 = 0; w0 < width; w0 += 16)
            {
                int n = Math.Min(16, width - w0);
                float* s = sp + start + w0;
                nint ld = stride;
                if (n < 16)
                {
                    // A ragged last block (or a row narrower than 16): its rows through a staging block.
                    for (int i = 0; i < 16; i++)
                        for (int w = 0; w < n; w++) stage[i * 16 + w] = s[(nint)i * stride + w];
                    s = stage;
                    ld = 16;
                }
                var r0 = Vector512.Load(s + 0 * ld);
                var r1 = Vector512.Load(s + 1 * ld);
                var r2 = Vector512.Load(s + 2 * ld);
                var r3 = Vector512.Load(s + 3 * ld);
                var r4 = Vector512.Load(s + 4 * ld);
                var r5 = Vector512.Load(s + 5 * ld);
                var r6 = Vector512.Load(s + 6 * ld);
                var r7 = Vector512.Load(s + 7 * ld);
                var r8 = Vector512.Load(s + 8 * ld);
                var r9 = Vector512.Load(s + 9 * ld);
                var r10 = Vector512.Load(s + 10 * ld);
                var r11 = Vector512.Load(s + 11 * ld);
                var r12 = Vector512.Load(s + 12 * ld);
                var r13 = Vector512.Load(s + 13 * ld);
                var r14 = Vector512.Load(s + 14 * ld);
                var r15 = Vector512.Load(s + 15 * ld);
                var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
                var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
                var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
                var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
                var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
                var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
                var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
                var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);
                // Per 128-bit lane l, u[4k + m] = rows 4k..4k+3 of column 4l + m.
                var u0 = Avx512F.UnpackLow(t0.AsDouble(), t2.AsDouble()).AsSingle(); var u1 = Avx512F.UnpackHigh(t0.AsDouble(), t2.AsDouble()).AsSingle();
                var u2 = Avx512F.UnpackLow(t1.AsDouble(), t3.AsDouble()).AsSingle(); var u3 = Avx512F.UnpackHigh(t1.AsDouble(), t3.AsDouble()).AsSingle();
                var u4 = Avx512F.UnpackLow(t4.AsDouble(), t6.AsDouble()).AsSingle(); var u5 = Avx512F.UnpackHigh(t4.AsDouble(), t6.AsDouble()).AsSingle();
                var u6 = Avx512F.UnpackLow(t5.AsDouble(), t7.AsDouble()).AsSingle(); var u7 = Avx512F.UnpackHigh(t5.AsDouble(), t7.AsDouble()).AsSingle();
                var u8 = Avx512F.UnpackLow(t8.AsDouble(), t10.AsDouble()).AsSingle(); var u9 = Avx512F.UnpackHigh(t8.AsDouble(), t10.AsDouble()).AsSingle();
                var u10 = Avx512F.UnpackLow(t9.AsDouble(), t11.AsDouble()).AsSingle(); var u11 = Avx512F.UnpackHigh(t9.AsDouble(), t11.AsDouble()).AsSingle();
                var u12 = Avx512F.UnpackLow(t12.AsDouble(), t14.AsDouble()).AsSingle(); var u13 = Avx512F.UnpackHigh(t12.AsDouble(), t14.AsDouble()).AsSingle();
                var u14 = Avx512F.UnpackLow(t13.AsDouble(), t15.AsDouble()).AsSingle(); var u15 = Avx512F.UnpackHigh(t13.AsDouble(), t15.AsDouble()).AsSingle();
                float* d = dp + (nint)w0 * 16;
                var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var x0 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
                var y0 = Avx512F.Shuffle4x128(u8, u12, 0x88); var z0 = Avx512F.Shuffle4x128(u8, u12, 0xDD);
                var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88); var x1 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
                var y1 = Avx512F.Shuffle4x128(u9, u13, 0x88); var z1 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
                var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var x2 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
                var y2 = Avx512F.Shuffle4x128(u10, u14, 0x88); var z2 = Avx512F.Shuffle4x128(u10, u14, 0xDD);
                var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88); var x3 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
                var y3 = Avx512F.Shuffle4x128(u11, u15, 0x88); var z3 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
                if (n == 16)
                {
                    Avx512F.Shuffle4x128(v0, y0, 0x88).Store(d + 0 * 16);
                    Avx512F.Shuffle4x128(v0, y0, 0xDD).Store(d + 8 * 16);
                    Avx512F.Shuffle4x128(x0, z0, 0x88).Store(d + 4 * 16);
                    Avx512F.Shuffle4x128(x0, z0, 0xDD).Store(d + 12 * 16);
                    Avx512F.Shuffle4x128(v1, y1, 0x88).Store(d + 1 * 16);
                    Avx512F.Shuffle4x128(v1, y1, 0xDD).Store(d + 9 * 16);
                    Avx512F.Shuffle4x128(x1, z1, 0x88).Store(d + 5 * 16);
                    Avx512F.Shuffle4x128(x1, z1, 0xDD).Store(d + 13 * 16);
                    Avx512F.Shuffle4x128(v2, y2, 0x88).Store(d + 2 * 16);
                    Avx512F.Shuffle4x128(v2, y2, 0xDD).Store(d + 10 * 16);
                    Avx512F.Shuffle4x128(x2, z2, 0x88).Store(d + 6 * 16);
                    Avx512F.Shuffle4x128(x2, z2, 0xDD).Store(d + 14 * 16);
                    Avx512F.Shuffle4x128(v3, y3, 0x88).Store(d + 3 * 16);
                    Avx512F.Shuffle4x128(v3, y3, 0xDD).Store(d + 11 * 16);
                    Avx512F.Shuffle4x128(x3, z3, 0x88).Store(d + 7 * 16);
                    Avx512F.Shuffle4x128(x3, z3, 0xDD).Store(d + 15 * 16);
                    continue;
                }
                // Columns in the order computed, through the staging block for a partial one.
                Avx512F.Shuffle4x128(v0, y0, 0x88).Store(stage + 0 * 16);
                Avx512F.Shuffle4x128(v0, y0, 0xDD).Store(stage + 8 * 16);
                Avx512F.Shuffle4x128(x0, z0, 0x88).Store(stage + 4 * 16);
                Avx512F.Shuffle4x128(x0, z0, 0xDD).Store(stage + 12 * 16);
                Avx512F.Shuffle4x128(v1, y1, 0x88).Store(stage + 1 * 16);
                Avx512F.Shuffle4x128(v1, y1, 0xDD).Store(stage + 9 * 16);
                Avx512F.Shuffle4x128(x1, z1, 0x88).Store(stage + 5 * 16);
                Avx512F.Shuffle4x128(x1, z1, 0xDD).Store(stage + 13 * 16);
                Avx512F.Shuffle4x128(v2, y2, 0x88).Store(stage + 2 * 16);
                Avx512F.Shuffle4x128(v2, y2, 0xDD).Store(stage + 10 * 16);
                Avx512F.Shuffle4x128(x2, z2, 0x88).Store(stage + 6 * 16);
                Avx512F.Shuffle4x128(x2, z2, 0xDD).Store(stage + 14 * 16);
                Avx512F.Shuffle4x128(v3, y3, 0x88).Store(stage + 3 * 16);
                Avx512F.Shuffle4x128(v3, y3, 0xDD).Store(stage + 11 * 16);
                Avx512F.Shuffle4x128(x3, z3, 0x88).Store(stage + 7 * 16);
                Avx512F.Shuffle4x128(x3, z3, 0xDD).Store(stage + 15 * 16);
                new ReadOnlySpan<float>(stage, n * 16).CopyTo(new Span<float>(d, n * 16));
            }
        }
    }

    /// <summary>
    /// A row tile's epilogue with vectors (float, two blocks of 16 channels): tile[i·32 + c] holds output channel c at
    /// position i &lt; n; each half is transposed so that channel c's n positions form one vector, then bias, residual
    /// and ReLU are applied in the scalar epilogue's order and the n outputs stored under a mask (y and residual
    /// advance by <paramref name="plane"/> per channel). Same bits as the scalar loop.
    /// </summary>
    private static void TransposedEpilogue(float* tile, int n, int rows, float* y, nint plane, float* residual, float* bias, bool relu)
    {
        float* stage = stackalloc float[16 * 16];
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();
        for (int half = 0; half * 16 < rows; half++)
        {
            TransposeRows(new ReadOnlySpan<float>(tile, 16 * 32), half * 16, 32, 16, new Span<float>(stage, 16 * 16));
            for (int c = half * 16, end = Math.Min(rows, c + 16); c < end; c++)
            {
                var v = Vector512.Load(stage + (c - half * 16) * 16);
                if (bias != null) v += Vector512.Create(bias[c]);
                if (residual != null) v += Avx512F.MaskLoad(residual + c * plane, mask, Vector512<float>.Zero);
                if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                Avx512F.MaskStore(y + c * plane, mask, v);
            }
        }
    }

    /// <summary>
    /// A row tile's epilogue into the blocked layout: position i's channels o..o + Lanes are one vector of the tile and
    /// one vector of the output (block stride <paramref name="blockStride"/>), so no transposition; bias, residual and
    /// ReLU in the scalar epilogue's order, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BlockedEpilogue(T* tile, int n, int rows, T* y, nint blockStride, T* residual, T* bias, bool relu)
    {
        int lanes = Lanes, blockRows = BlockRows;
        for (int half = 0; half * lanes < rows; half++)
        {
            var b = bias == null ? Vector512<T>.Zero : Vector512.Load(bias + half * lanes);
            T* yh = y + half * blockStride, rh = residual == null ? null : residual + half * blockStride;
            for (int i = 0; i < n; i++)
            {
                var v = Vector512.Load(tile + i * blockRows + half * lanes);
                if (bias != null) v += b;
                if (rh != null) v += Vector512.Load(rh + i * lanes);
                if (relu) v = Vector512.Max(v, Vector512<T>.Zero);
                v.Store(yh + i * lanes);
            }
        }
    }

    /// <summary>Pixel steps of the blocked input: stride 1 and 2.</summary>
    private struct BlockStride1 : IRowCount { public static int Count => Vector512<T>.Count; }

    private struct BlockStride2 : IRowCount { public static int Count => 2 * Vector512<T>.Count; }
}
