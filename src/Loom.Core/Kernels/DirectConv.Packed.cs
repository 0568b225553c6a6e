using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Threading;

namespace Loom.Kernels;

// The forward kernel with weights packed once (PackedConv2dWeight) in blocks of BlockRows output channels (four
// vectors), each block contiguous: [group][block][tap k][BlockRows]. Unpacked, Forward transposes the weights on every
// call and each tile walks them with a stride of OutPerGroup elements, so a wide layer (512 → 512 at 7×7: 9.4 MB)
// streams the whole weight tensor once per grid tile in 2 KB jumps (21 ms against 2.7 by GEMM). Packed, a block's
// weights stay in L2 while every tile of the grid uses them.
//
// Two tiles read that layout:
// - Column tiles (ForwardTile, the unpacked kernel's): MaxRows channels × 2 vectors of grid positions, broadcasting
//   weights. Over a grid of OH × GridWidth positions, (GridWidth − OW) / GridWidth of the work is wasted: 4 % at
//   56 × 56, but 23 % at ResNet18's last stage (7 × 7 outputs on a 9-wide grid, 63 positions rounded up to 64).
// - Row tiles (RowTile): 4 vectors of output channels × up to 6 outputs (consecutive in the output plane, so a tile
//   may cross output rows), broadcasting input pixels. No grid: every position computed is an output, so the 7 × 7
//   stage computes 49 positions, not 64. Its
//   epilogue transposes through a small buffer (scalar), which costs little when the depth k is large, as it is
//   where outputs are narrow.
// Both write their outputs with bias, residual and ReLU applied, in the worker that computed them: no grid-sized
// buffer is extracted on the calling thread, and no separate pass runs over the output.
internal static unsafe partial class DirectConv<T>
{
    /// <summary>Output channels per packed block: four vectors, a row tile's height (column tiles take MaxRows at a time).</summary>
    private static int BlockRows => 4 * Vector512<T>.Count;

    /// <summary>Outputs per row tile at most: 4 × 6 accumulators, 4 weight loads and 6 broadcasts per 24 FMAs.</summary>
    private const int MaxPositions = 6;

    /// <summary>
    /// Output widths up to this run row tiles, wider ones column tiles. Measured on ResNet18's layers at one thread
    /// (docs/notes/onnx.md): row tiles win clearly at 7 and 14 wide (1.42 against 1.78 ms at 512 → 512 on 7×7), tie at
    /// 28 and 56, and lose at the 7×7/2 stem (depth 147, where the scalar epilogue weighs: 2.3 against 1.4 ms).
    /// </summary>
    private const int RowTileMaxWidth = 28;

    /// <summary>
    /// For tests and benchmarks: on the calling thread, forces row tiles (true) or column tiles (false) for every
    /// width; null chooses by <see cref="RowTileMaxWidth"/>. The tiles give the same bits.
    /// </summary>
    internal static bool? ForcedRowTiles
    {
        get => _forcedRowTiles;
        set => _forcedRowTiles = value;
    }

    [ThreadStatic]
    private static bool? _forcedRowTiles;

    /// <summary>Elements of <see cref="PackWeights"/>'s layout for a weight of <paramref name="outChannels"/> rows of depth <paramref name="depth"/> in <paramref name="groups"/> groups.</summary>
    public static int PackedLength(int outChannels, int depth, int groups)
    {
        int rows = outChannels / groups, blockRows = BlockRows;
        return groups * ((rows + blockRows - 1) / blockRows) * blockRows * depth;
    }

    /// <summary>
    /// w [OutC, depth] (depth = C/groups · kH · kW) into packed[grp][block][p][i] = w[grp·rows + block·BlockRows + i, p],
    /// zero past the group's last row.
    /// </summary>
    public static void PackWeights(ReadOnlySpan<T> w, int outChannels, int depth, int groups, Span<T> packed)
    {
        int rows = outChannels / groups, blockRows = BlockRows, blocks = (rows + blockRows - 1) / blockRows;
        packed[..PackedLength(outChannels, depth, groups)].Clear();
        for (int grp = 0; grp < groups; grp++)
            for (int o = 0; o < rows; o++)
            {
                var src = w.Slice((grp * rows + o) * depth, depth);
                var dst = packed.Slice((grp * blocks + o / blockRows) * depth * blockRows + o % blockRows);
                for (int p = 0; p < depth; p++) dst[p * blockRows] = src[p];
            }
    }

    /// <summary>
    /// Whether <see cref="ForwardPacked"/> computes this convolution: any stride (equal along both axes), the output a
    /// plain convolution's. A strided convolution runs over the input's stride phases (see <see cref="Layout"/>): every
    /// tap is a contiguous window again, with no im2col (ResNet18's 7×7/2 stem and its stride-2 3×3 layers).
    /// </summary>
    public static bool AppliesPacked(in Conv2dGeometry g) =>
        IsSupported && g.StrideH == g.StrideW
        && g.OutHeight == Conv2dGeometry.OutputSize(g.Height, g.KernelH, g.StrideH, g.PadH, g.DilationH)
        && g.OutWidth == Conv2dGeometry.OutputSize(g.Width, g.KernelW, g.StrideW, g.PadW, g.DilationW);

    /// <summary>
    /// One image group's work for <see cref="Run"/>: its padded planes, weights, bias, output and residual (the last
    /// three already sliced to the group), and which tile computes it.
    /// </summary>
    private readonly record struct PackedJob(Layout L, int[] Offsets, T[] Weights, int K, int Rows, bool RowTiles, bool Relu,
        T[]? Padded = null, int WeightBase = 0, ReadOnlyMemory<T> Bias = default, Memory<T> Output = default, ReadOnlyMemory<T> Residual = default,
        int OutPlane = 0, ReadOnlyMemory<T> Input = default)
    {
        /// <summary>Row tiles per block: the output plane's positions in equal chunks of at most MaxPositions.</summary>
        public int Chunks => (L.OutHeight * L.OutWidth + MaxPositions - 1) / MaxPositions;

        /// <summary>Work units: (block, chunk) pairs for row tiles, slices of MaxRows channels for column tiles.</summary>
        public int Units => RowTiles ? (Rows + BlockRows - 1) / BlockRows * Chunks : (Rows + MaxRows - 1) / MaxRows;

        public long UnitMacs => RowTiles ? (long)BlockRows * K * MaxPositions : (long)MaxRows * K * L.Grid;
    }

    /// <summary><see cref="Forward"/> from weights packed by <see cref="PackWeights"/>, for any stride (<see cref="AppliesPacked"/>).</summary>
    public static void ForwardPacked(ReadOnlyMemory<T> input, T[] packed, ReadOnlyMemory<T> bias, Conv2dGeometry g, Memory<T> output,
        ReadOnlyMemory<T> residual, Activation activation)
    {
        var l = new Layout(g.InPerGroup, g.Height, g.Width, g.PadH, g.PadW, g.KernelH, g.KernelW, g.DilationH, g.DilationW, g.StrideH, g.StrideW);
        int k = g.ColumnRows, rows = g.OutPerGroup, blocks = (rows + BlockRows - 1) / BlockRows;
        int groupIn = g.InPerGroup * g.InPlane, groupOut = rows * g.OutPlane;
        int[] offsets = ArrayPool<int>.Shared.Rent(k);
        try
        {
            l.FillOffsets(offsets);
            // ReLU runs in the tiles' epilogue; any other activation afterwards over each image group's output.
            var job = new PackedJob(l, offsets, packed, k, rows, ForcedRowTiles ?? g.OutWidth <= RowTileMaxWidth, activation == Activation.Relu);
            Activation after = activation == Activation.Relu ? Activation.None : activation;
            PackedJob Part(PackedJob j, T[] padded, int n, int grp) => j with
            {
                Padded = padded, WeightBase = grp * blocks * BlockRows * k,
                Bias = bias.IsEmpty ? default : bias.Slice(grp * rows, rows),
                Output = output.Slice((n * g.Groups + grp) * groupOut, groupOut),
                Residual = residual.IsEmpty ? default : residual.Slice((n * g.Groups + grp) * groupOut, groupOut),
                OutPlane = g.OutPlane, Input = input.Slice((n * g.Groups + grp) * groupIn, groupIn),
            };
            if (g.Batch < Threads.Count)
            {
                // Fewer images than threads (inference at batch 1): threads share each image's padding (by channels)
                // and then its work units; nothing is left to the calling thread alone.
                T[] padded = ArrayPool<T>.Shared.Rent(l.BufferLength);
                try
                {
                    int padGrain = Math.Max(1, (1 << 14) / Math.Max(1, l.Plane));
                    int unitGrain = (int)Math.Clamp((1L << 17) / Math.Max(1L, job.UnitMacs), 1, int.MaxValue);
                    // Column tiles over a wide stride-1 image: threads take bands of output rows instead, each padding
                    // its own input rows. Split by channels, each thread read the whole padded input, half of it written
                    // by the other core (ResNet18's 56×56 layers: 1.32 ms at one thread, still 1.1–1.3 at two).
                    int bands = !job.RowTiles && l.StrideH == 1 && l.StrideW == 1
                        ? (int)Math.Clamp(g.MacsPerImage / g.Groups / (1L << 17), 1, Math.Min(Threads.Count, g.OutHeight)) : 1;
                    for (int n = 0; n < g.Batch; n++)
                    {
                        for (int grp = 0; grp < g.Groups; grp++)
                        {
                            var part = Part(job, padded, n, grp);
                            if (bands > 1)
                                ParallelHelper.For(bands, 1, (Job: part, Bands: bands), static (s, first, end) =>
                                {
                                    for (int band = first; band < end; band++) RunBand(s.Job, band, s.Bands);
                                });
                            else
                            {
                                ParallelHelper.For(l.Channels, padGrain, part, static (j, first, end) => Pad(j.Input.Span, j.L, j.Padded, first, end));
                                ParallelHelper.For(part.Units, unitGrain, part, static (j, first, end) => Run(j, first, end));
                            }
                            if (after != Activation.None) GemmEpilogue.Activate<T>(part.Output.Span, part.Output.Span, after);
                        }
                    }
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(padded);
                }
                return;
            }
            int imageGrain = (int)Math.Clamp((1L << 17) / Math.Max(1, g.MacsPerImage), 1, int.MaxValue);
            ParallelHelper.For(g.Batch, imageGrain, (start, end) =>
            {
                T[] padded = ArrayPool<T>.Shared.Rent(l.BufferLength);
                try
                {
                    for (int n = start; n < end; n++)
                    {
                        for (int grp = 0; grp < g.Groups; grp++)
                        {
                            Pad(input.Span.Slice((n * g.Groups + grp) * groupIn, groupIn), l, padded);
                            var part = Part(job, padded, n, grp);
                            Run(part, 0, part.Units);
                            if (after != Activation.None) GemmEpilogue.Activate<T>(part.Output.Span, part.Output.Span, after);
                        }
                    }
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(padded);
                }
            });
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    /// <summary>Work units [first, end) of one image group, each written to the output with its epilogue.</summary>
    private static void Run(PackedJob j, int first, int end)
    {
        if (j.RowTiles) RunRowTiles(j, first, end);
        else RunColumnTiles(j, first, end);
    }

    /// <summary>
    /// Slices of MaxRows output channels over the whole grid (into a buffer of MaxRows grid rows, so a slice's weights
    /// stay in cache across the grid's tiles), then the slice's real columns to the output with the epilogue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunColumnTiles(PackedJob j, int first, int end)
    {
        var l = j.L;
        int gridLength = l.Grid, blockRows = BlockRows, plane = j.OutPlane;
        T[] grid = ArrayPool<T>.Shared.Rent(MaxRows * gridLength);
        try
        {
            fixed (T* xp = j.Padded, gp = grid, wp = j.Weights, yp = j.Output.Span, bp = j.Bias.Span, rp = j.Residual.Span)
            fixed (int* op = j.Offsets)
            {
                for (int unit = first; unit < end; unit++)
                {
                    int o = unit * MaxRows, r = Math.Min(MaxRows, j.Rows - o);
                    T* w = wp + j.WeightBase + (nint)(o / blockRows) * blockRows * j.K + o % blockRows;
                    for (int q = 0; q < gridLength; q += TileWidth)
                    {
                        switch (r)
                        {
                            case 1: ForwardTile<R1>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                            case 2: ForwardTile<R2>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                            case 3: ForwardTile<R3>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                            case 4: ForwardTile<R4>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                            case 5: ForwardTile<R5>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                            case 6: ForwardTile<R6>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                            case 7: ForwardTile<R7>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                            default: ForwardTile<R8>(xp + q, op, j.K, w, blockRows, gp + q, gridLength); break;
                        }
                    }
                    for (int c = 0; c < r; c++)
                    {
                        T* y = yp + (nint)(o + c) * plane, res = rp == null ? null : rp + (nint)(o + c) * plane;
                        T b = bp == null ? T.Zero : bp[o + c];
                        for (int i = 0; i < l.OutHeight; i++)
                            Epilogue(gp + (nint)c * gridLength + (nint)i * l.GridWidth, y + (nint)i * l.OutWidth,
                                res == null ? null : res + (nint)i * l.OutWidth, b, bp != null, j.Relu, l.OutWidth);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(grid);
        }
    }

    /// <summary>
    /// Output rows [band·OH / bands, (band + 1)·OH / bands) of a stride-1 convolution by column tiles, from the band's
    /// own padded input rows: the rows it reads become an image of their own with no vertical padding (the padding
    /// rows it covers are zero rows of that image), so the grid, offsets and tiles apply unchanged.
    /// </summary>
    private static void RunBand(PackedJob j, int band, int bands)
    {
        var l = j.L;
        int first = band * l.OutHeight / bands, end = (band + 1) * l.OutHeight / bands;
        var bl = l with { Height = end - first + l.DilationH * (l.KernelH - 1), PadH = 0 };
        T[] padded = ArrayPool<T>.Shared.Rent(bl.BufferLength);
        int[] offsets = ArrayPool<int>.Shared.Rent(j.K);
        try
        {
            bl.FillOffsets(offsets);
            var src = j.Input.Span;
            var dst = padded.AsSpan();
            int wp = bl.PaddedWidth, plane = l.Height * l.Width;
            for (int c = 0; c < l.Channels; c++)
            {
                for (int t = 0; t < bl.Height; t++)
                {
                    var row = dst.Slice(c * bl.Plane + t * wp, wp);
                    int ih = first + t - l.PadH;
                    if ((uint)ih >= (uint)l.Height)
                    {
                        row.Clear();
                        continue;
                    }
                    row[..l.PadW].Clear();
                    src.Slice(c * plane + ih * l.Width, l.Width).CopyTo(row.Slice(l.PadW, l.Width));
                    row[(l.PadW + l.Width)..].Clear();
                }
            }
            dst[(l.Channels * bl.Plane)..bl.BufferLength].Clear();
            RunColumnTiles(j with
            {
                L = bl, Padded = padded, Offsets = offsets, Output = j.Output[(first * l.OutWidth)..],
                Residual = j.Residual.IsEmpty ? default : j.Residual[(first * l.OutWidth)..],
            }, 0, j.Units);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<T>.Shared.Return(padded);
        }
    }

    /// <summary>
    /// dst[i] = relu?(src[i] + bias + residual[i]) for i &lt; n, each term only when given, in the order and with the
    /// operations of the separate ops (so the same bits as adding the bias, then the residual, then the activation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Epilogue(T* src, T* dst, T* residual, T bias, bool hasBias, bool relu, int n)
    {
        int i = 0, lanes = Vector512<T>.Count;
        var b = Vector512.Create(bias);
        for (; i <= n - lanes; i += lanes)
        {
            var v = Vector512.Load(src + i);
            if (hasBias) v += b;
            if (residual != null) v += Vector512.Load(residual + i);
            if (relu) v = Vector512.Max(v, Vector512<T>.Zero);
            v.Store(dst + i);
        }
        for (; i < n; i++)
        {
            T v = src[i];
            if (hasBias) v += bias;
            if (residual != null) v += residual[i];
            if (relu) v = T.Max(v, T.Zero);
            dst[i] = v;
        }
    }

    /// <summary>
    /// (block, chunk) units: a block's output positions, taken in the output plane's order (row after row), split into
    /// equal chunks of at most MaxPositions; one row tile per chunk, written through a small transposing buffer with the
    /// epilogue. A chunk may run across output rows: each position reads its own input offset, so the 7 × 7 stage
    /// takes its 49 positions as 9 chunks of 5–6 instead of 14 chunks of 3–4.
    /// </summary>
    /// <remarks>
    /// A block's weights are read once per chunk, so they must stay in L2: a block of four vectors at ResNet18's last
    /// stage holds 1.2 MB (4608 taps × 64 channels), more than a Zen 5 core's L2. Such blocks are taken in slices of at
    /// most SliceBytes of weights: every chunk of the range runs one slice, its accumulators kept in a buffer between
    /// slices (stored and reloaded exactly, so each output's sum runs over the taps in the same order, with the same bits).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRowTiles(PackedJob j, int first, int end)
    {
        var l = j.L;
        int blockRows = BlockRows, outWidth = l.OutWidth, positions = l.OutHeight * outWidth, plane = j.OutPlane, chunks = j.Chunks;
        int tileLength = MaxPositions * blockRows, blockTaps = Math.Max(1, SliceBytes / (blockRows * sizeof(T)));
        int slices = (j.K + blockTaps - 1) / blockTaps, sliceTaps = (j.K + slices - 1) / slices;
        // One tile's buffer when a block is one slice; otherwise one per chunk of the range (at most all of a block's).
        int buffered = slices == 1 ? 1 : Math.Min(chunks, end - first);
        T[] accumulators = ArrayPool<T>.Shared.Rent(buffered * tileLength);
        nint* deltas = stackalloc nint[MaxPositions];
        try
        {
            fixed (T* xp = j.Padded, wp = j.Weights, yp = j.Output.Span, bp = j.Bias.Span, rp = j.Residual.Span, ap = accumulators)
            fixed (int* op = j.Offsets)
            {
                for (int unit = first; unit < end;)
                {
                    int o = unit / chunks * blockRows, c0 = unit % chunks, c1 = Math.Min(chunks, c0 + end - unit), rows = Math.Min(blockRows, j.Rows - o);
                    T* w = wp + j.WeightBase + (nint)o * j.K;
                    bool narrow = rows <= blockRows / 2; // the group's last block, half empty: half the FMAs
                    for (int p0 = 0; p0 < j.K; p0 += sliceTaps)
                    {
                        int taps = Math.Min(sliceTaps, j.K - p0);
                        // The next slice (of this block, or the next block's first) follows in memory: the chunks
                        // prefetch it into L2 in equal shares spread over their taps, so it is there when they finish
                        // this one (the last stage's 9.4 MB per layer come from memory on every run).
                        bool prefetch = p0 + taps < j.K || o + blockRows < j.Rows;
                        long lines = prefetch ? (long)Math.Min(taps, j.K - p0 - taps > 0 ? j.K - p0 - taps : sliceTaps) * blockRows * sizeof(T) / 64 : 0;
                        byte* next = (byte*)(w + (nint)(p0 + taps) * blockRows);
                        for (int c = c0; c < c1; c++)
                        {
                            int at = c * positions / chunks, n = (c + 1) * positions / chunks - at;
                            // Input of output at + i: its row's grid row and its column, relative to the chunk's first.
                            int oh0 = at / outWidth, ow0 = at % outWidth;
                            T* x = xp + (nint)oh0 * l.GridWidth + ow0;
                            for (int i = 0; i < n; i++)
                                deltas[i] = (nint)((at + i) / outWidth - oh0) * l.GridWidth + (at + i) % outWidth - ow0;
                            int lineStart = (int)((c - c0) * lines / (c1 - c0)), lineCount = (int)((c - c0 + 1) * lines / (c1 - c0)) - lineStart;
                            T* tile = ap + (slices == 1 ? 0 : (nint)(c - c0) * tileLength);
                            var s = new TileArgs(x, deltas, op + p0, taps, w + (nint)p0 * blockRows, tile, p0 > 0, next + (nint)lineStart * 64, lineCount);
                            switch (n)
                            {
                                case 1: if (narrow) RowTile<V2, R1>(s); else RowTile<V4, R1>(s); break;
                                case 2: if (narrow) RowTile<V2, R2>(s); else RowTile<V4, R2>(s); break;
                                case 3: if (narrow) RowTile<V2, R3>(s); else RowTile<V4, R3>(s); break;
                                case 4: if (narrow) RowTile<V2, R4>(s); else RowTile<V4, R4>(s); break;
                                case 5: if (narrow) RowTile<V2, R5>(s); else RowTile<V4, R5>(s); break;
                                default: if (narrow) RowTile<V2, R6>(s); else RowTile<V4, R6>(s); break;
                            }
                            if (p0 + taps == j.K) RowEpilogue(j, tile, yp, bp, rp, o, rows, at, n);
                        }
                    }
                    unit += c1 - c0;
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(accumulators);
        }
    }

    /// <summary>Weights per slice of a block at most (see <see cref="RunRowTiles"/>): a third of a 1 MB L2, beside the input and the next slice.</summary>
    private const int SliceBytes = 320 << 10;

    /// <summary>Outputs at + [0, n) of channels o + [0, rows) from a row tile's buffer, with bias, residual and ReLU.</summary>
    private static void RowEpilogue(in PackedJob j, T* tile, T* yp, T* bp, T* rp, int o, int rows, int at, int n)
    {
        int blockRows = BlockRows, plane = j.OutPlane;
        for (int c = 0; c < rows; c++)
        {
            T* y = yp + (nint)(o + c) * plane + at, res = rp == null ? null : rp + (nint)(o + c) * plane + at;
            T b = bp == null ? T.Zero : bp[o + c];
            for (int i = 0; i < n; i++)
            {
                T v = tile[i * blockRows + c];
                if (bp != null) v += b;
                if (res != null) v += res[i];
                if (j.Relu) v = T.Max(v, T.Zero);
                y[i] = v;
            }
        }
    }

    /// <summary>
    /// A row tile's operands: output i reads the input at X + Deltas[i] + Offsets[p] for the K taps p of the slice,
    /// weights from W; the sums go to Tile, starting from Tile's values when Accumulate (a later slice), else from zero.
    /// </summary>
    private readonly struct TileArgs(T* x, nint* deltas, int* offsets, int k, T* w, T* tile, bool accumulate, byte* prefetch, int prefetchLines)
    {
        public readonly T* X = x, W = w, Tile = tile;
        public readonly nint* Deltas = deltas;
        public readonly int* Offsets = offsets;
        public readonly int K = k, PrefetchLines = prefetchLines;
        public readonly bool Accumulate = accumulate;
        public readonly byte* Prefetch = prefetch;
    }

    /// <summary>
    /// One row tile (<see cref="TileArgs"/>): TVectors vectors of output channels (4, or 2 for a half-empty last block) ×
    /// TPositions outputs, summed over the slice's taps in the column tile's order (so both give the same bits);
    /// tile[i·BlockRows + c] = output c at position i. 4 × 6 keeps 24 accumulators, 4 weight vectors and a broadcast in
    /// 29 of the 32 vector registers: 10 loads per 24 FMAs, against 10 per 16 for 2 × 8. Prefetches the PrefetchLines
    /// cache lines from Prefetch into L2 along the way, at most two per tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTile<TVectors, TPositions>(in TileArgs s) where TVectors : struct, IRowCount where TPositions : struct, IRowCount
    {
        T* x = s.X, w = s.W, tile = s.Tile;
        nint* deltas = s.Deltas;
        int* offsets = s.Offsets;
        byte* prefetch = s.Prefetch;
        int k = s.K, prefetchLines = s.PrefetchLines;
        int n = TPositions.Count;
        bool wide = TVectors.Count == 4;
        nint lanes = Vector512<T>.Count, stride = BlockRows;
        nint d1 = n > 1 ? deltas[1] : 0, d2 = n > 2 ? deltas[2] : 0, d3 = n > 3 ? deltas[3] : 0, d4 = n > 4 ? deltas[4] : 0, d5 = n > 5 ? deltas[5] : 0;
        Vector512<T> a0 = default, b0 = default, c0 = default, e0 = default, a1 = default, b1 = default, c1 = default, e1 = default;
        Vector512<T> a2 = default, b2 = default, c2 = default, e2 = default, a3 = default, b3 = default, c3 = default, e3 = default;
        Vector512<T> a4 = default, b4 = default, c4 = default, e4 = default, a5 = default, b5 = default, c5 = default, e5 = default;
        if (s.Accumulate)
        {
            Load(tile, ref a0, ref b0, ref c0, ref e0, wide);
            if (n > 1) Load(tile + stride, ref a1, ref b1, ref c1, ref e1, wide);
            if (n > 2) Load(tile + 2 * stride, ref a2, ref b2, ref c2, ref e2, wide);
            if (n > 3) Load(tile + 3 * stride, ref a3, ref b3, ref c3, ref e3, wide);
            if (n > 4) Load(tile + 4 * stride, ref a4, ref b4, ref c4, ref e4, wide);
            if (n > 5) Load(tile + 5 * stride, ref a5, ref b5, ref c5, ref e5, wide);
        }
        for (int p = 0; p < k; p++, w += stride)
        {
            if (Sse.IsSupported && p < prefetchLines)
            {
                Sse.Prefetch1(prefetch + (nint)p * 64);
                if (p + k < prefetchLines) Sse.Prefetch1(prefetch + (nint)(p + k) * 64);
            }
            T* xp = x + offsets[p];
            var w0 = Vector512.Load(w);
            var w1 = Vector512.Load(w + lanes);
            var w2 = wide ? Vector512.Load(w + 2 * lanes) : default;
            var w3 = wide ? Vector512.Load(w + 3 * lanes) : default;
            Vector512<T> v = Vector512.Create(xp[0]);
            a0 = GemmFma.Fma(v, w0, a0); b0 = GemmFma.Fma(v, w1, b0);
            if (wide) { c0 = GemmFma.Fma(v, w2, c0); e0 = GemmFma.Fma(v, w3, e0); }
            if (n > 1)
            {
                v = Vector512.Create(xp[d1]); a1 = GemmFma.Fma(v, w0, a1); b1 = GemmFma.Fma(v, w1, b1);
                if (wide) { c1 = GemmFma.Fma(v, w2, c1); e1 = GemmFma.Fma(v, w3, e1); }
            }
            if (n > 2)
            {
                v = Vector512.Create(xp[d2]); a2 = GemmFma.Fma(v, w0, a2); b2 = GemmFma.Fma(v, w1, b2);
                if (wide) { c2 = GemmFma.Fma(v, w2, c2); e2 = GemmFma.Fma(v, w3, e2); }
            }
            if (n > 3)
            {
                v = Vector512.Create(xp[d3]); a3 = GemmFma.Fma(v, w0, a3); b3 = GemmFma.Fma(v, w1, b3);
                if (wide) { c3 = GemmFma.Fma(v, w2, c3); e3 = GemmFma.Fma(v, w3, e3); }
            }
            if (n > 4)
            {
                v = Vector512.Create(xp[d4]); a4 = GemmFma.Fma(v, w0, a4); b4 = GemmFma.Fma(v, w1, b4);
                if (wide) { c4 = GemmFma.Fma(v, w2, c4); e4 = GemmFma.Fma(v, w3, e4); }
            }
            if (n > 5)
            {
                v = Vector512.Create(xp[d5]); a5 = GemmFma.Fma(v, w0, a5); b5 = GemmFma.Fma(v, w1, b5);
                if (wide) { c5 = GemmFma.Fma(v, w2, c5); e5 = GemmFma.Fma(v, w3, e5); }
            }
        }
        Store(tile, a0, b0, c0, e0, wide);
        if (n > 1) Store(tile + stride, a1, b1, c1, e1, wide);
        if (n > 2) Store(tile + 2 * stride, a2, b2, c2, e2, wide);
        if (n > 3) Store(tile + 3 * stride, a3, b3, c3, e3, wide);
        if (n > 4) Store(tile + 4 * stride, a4, b4, c4, e4, wide);
        if (n > 5) Store(tile + 5 * stride, a5, b5, c5, e5, wide);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Load(T* at, ref Vector512<T> a, ref Vector512<T> b, ref Vector512<T> c, ref Vector512<T> e, bool wide)
        {
            nint lanes = Vector512<T>.Count;
            a = Vector512.Load(at); b = Vector512.Load(at + lanes);
            if (wide) { c = Vector512.Load(at + 2 * lanes); e = Vector512.Load(at + 3 * lanes); }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store(T* at, Vector512<T> a, Vector512<T> b, Vector512<T> c, Vector512<T> e, bool wide)
        {
            nint lanes = Vector512<T>.Count;
            a.Store(at); b.Store(at + lanes);
            if (wide) { c.Store(at + 2 * lanes); e.Store(at + 3 * lanes); }
        }
    }

    private struct V2 : IRowCount { public static int Count => 2; }
    private struct V4 : IRowCount { public static int Count => 4; }
}
