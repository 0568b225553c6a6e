using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

// The forward kernel with weights packed once (PackedConv2dWeight) in blocks of BlockRows output channels (two
// vectors), each block contiguous: [group][block][tap k][BlockRows]. Unpacked, Forward transposes the weights on every
// call and each tile walks them with a stride of OutPerGroup elements, so a wide layer (512 → 512 at 7×7: 9.4 MB)
// streams the whole weight tensor once per grid tile in 2 KB jumps (21 ms against 2.7 by GEMM). Packed, a block's
// weights stay in L2 while every tile of the grid uses them.
//
// Two tiles read that layout:
// - Column tiles (ForwardTile, the unpacked kernel's): MaxRows channels × 2 vectors of grid positions, broadcasting
//   weights. Over a grid of OH × GridWidth positions, (GridWidth − OW) / GridWidth of the work is wasted: 4 % at
//   56 × 56, but 23 % at ResNet18's last stage (7 × 7 outputs on a 9-wide grid, 63 positions rounded up to 64).
// - Row tiles (RowTile): 2 vectors of output channels × up to 8 consecutive outputs of one row, broadcasting input
//   pixels. No grid: every position computed is an output, so the 7 × 7 stage computes 49 positions, not 64. Its
//   epilogue transposes through a small buffer (scalar), which costs little when the depth k is large, as it is
//   where outputs are narrow.
// - Row tiles over a blocked input (DirectConv.Blocked.cs): where input channels come in whole vectors, the same row
//   tile reads the image reordered to [channel block][row][column][Lanes], for every width and stride 1 or 2.
//   Where the caller keeps its activations in that layout (Functional.Conv2dBlocked: an inference plan's chain of
//   convolutions), the input is only padded (a copy of rows) and the tile's vectors are stored as they are.
// Both write their outputs with bias, residual and ReLU applied, in the worker that computed them: no grid-sized
// buffer is extracted on the calling thread, and no separate pass runs over the output.
internal static unsafe partial class DirectConv<T>
{
    /// <summary>Output channels per packed block: two vectors, a row tile's height (column tiles take MaxRows at a time).</summary>
    private static int BlockRows => 2 * Vector512<T>.Count;

    /// <summary>Outputs per row tile at most: 2 × 8 accumulators, 2 weight loads and 8 broadcasts per 16 FMAs (as the column tile).</summary>
    private const int MaxPositions = 8;

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
        bool Blocked = false, bool BlockedInput = false, bool BlockedOutput = false, bool RowMajor = false, bool InPlace = false, T[]? Padded = null, int WeightBase = 0, ReadOnlyMemory<T> Bias = default, Memory<T> Output = default, ReadOnlyMemory<T> Residual = default,
        int OutPlane = 0, ReadOnlyMemory<T> Input = default)
    {
        /// <summary>Work units: (block, output row) pairs for row tiles, slices of MaxRows channels for column tiles.</summary>
        public int Units => RowTiles ? (Rows + BlockRows - 1) / BlockRows * L.OutHeight : (Rows + MaxRows - 1) / MaxRows;

        public long UnitMacs => RowTiles ? (long)BlockRows * K * L.OutWidth : (long)MaxRows * K * L.Grid;
    }

    /// <summary>
    /// <see cref="Forward"/> from weights packed by <see cref="PackWeights"/>, for any stride (<see cref="AppliesPacked"/>).
    /// With <paramref name="blockedInput"/>, the input is in the blocked-channel layout [N][C / Lanes][H][W][Lanes]
    /// (only where <see cref="AppliesBlockedLayout"/>); with <paramref name="blockedOutput"/>, output and residual are
    /// (only where <see cref="AppliesBlockedOutput"/>: row tiles then, whose vectors are the output's).
    /// </summary>
    public static void ForwardPacked(ReadOnlyMemory<T> input, T[] packed, ReadOnlyMemory<T> bias, Conv2dGeometry g, Memory<T> output,
        ReadOnlyMemory<T> residual, Activation activation, bool blockedInput = false, bool blockedOutput = false)
    {
        if (blockedInput && !AppliesBlockedLayout(g) || blockedOutput && !AppliesBlockedOutput(g))
            throw new ArgumentException("conv2d: this convolution does not run on the blocked-channel layout");
        var l = new Layout(g.InPerGroup, g.Height, g.Width, g.PadH, g.PadW, g.KernelH, g.KernelW, g.DilationH, g.DilationW, g.StrideH, g.StrideW);
        int k = g.ColumnRows, rows = g.OutPerGroup, blocks = (rows + BlockRows - 1) / BlockRows;
        int groupIn = g.InPerGroup * g.InPlane, groupOut = rows * g.OutPlane;
        int[] offsets = ArrayPool<int>.Shared.Rent(k);
        try
        {
            // ReLU runs in the tiles' epilogue; any other activation afterwards over each image group's output.
            bool blocked = blockedInput || UsesBlocked(g);
            // A blocked input without padding (the 1×1/2 shortcuts) is its own padded image: the tiles read it in place,
            // and only the pixels the stride picks (a quarter of them) are read rather than all of them copied.
            bool inPlace = blockedInput && l.PadH == 0 && l.PadW == 0;
            var job = new PackedJob(l, offsets, packed, k, rows, blocked || blockedOutput || (ForcedRowTiles ?? g.OutWidth <= RowTileMaxWidth),
                activation == Activation.Relu, blocked, blockedInput, blockedOutput, InPlace: inPlace);
            if (blocked) FillBlockedOffsets(l, offsets);
            else l.FillOffsets(offsets);
            int bufferLength = blocked ? BlockedLength(l) : l.BufferLength;
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
                T[] padded = inPlace ? [] : ArrayPool<T>.Shared.Rent(bufferLength);
                try
                {
                    int padGrain = Math.Max(1, (1 << 14) / Math.Max(1, l.Plane));
                    int unitGrain = (int)Math.Clamp((1L << 17) / Math.Max(1L, job.UnitMacs), 1, int.MaxValue);
                    // Column tiles over a wide stride-1 image: threads take bands of output rows instead, each padding
                    // its own input rows. Split by channels, each thread read the whole padded input, half of it written
                    // by the other core (ResNet18's 56×56 layers: 1.32 ms at one thread, still 1.1–1.3 at two).
                    // Blocked stride-1 layers whose weights fit in L2 twice over (ResNet18's 56×56 and 28×28): threads take
                    // whole output rows and pad the input rows they wrote in the previous layer, so each reads the other
                    // core's lines only at its band's edges; by channel blocks each read all the input, half of it
                    // written by the other core (56×56 at two threads: 0.72–0.75 → 0.64–0.66 ms a layer). Wider layers
                    // keep the block-major split: every thread would stream every block's weights.
                    // Stride 2 likewise (ResNet18's 64 → 128 3×3/2 and its three 1×1/2 shortcuts): thread t's output
                    // rows read about the input rows thread t wrote in the previous layer (ResNet18 at two threads:
                    // 3×3/2 0.54 → 0.45 ms, 1×1/2 shortcuts 0.27 / 0.21 / 0.12 → 0.13 / 0.17 / 0.11 with the in-place read).
                    bool rowMajor = blocked && Threads.Count > 1 && (long)blocks * BlockRows * k * sizeof(T) <= 640 * 1024;
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
                            else if (blocked && rowMajor)
                            {
                                var rowPart = part with { RowMajor = true };
                                if (!inPlace)
                                    ParallelHelper.For(l.PaddedHeight, 1, rowPart, static (j, first, end) =>
                                        PadBlocked(j.Input.Span, j.L, j.Padded, 0, j.L.Channels / Lanes, j.BlockedInput, first, end));
                                ParallelHelper.For(rowPart.Units, unitGrain, rowPart, static (j, first, end) => Run(j, first, end));
                            }
                            else if (blocked)
                            {
                                if (!inPlace)
                                    ParallelHelper.For(l.Channels / Lanes, 1, part, static (j, first, end) => PadBlocked(j.Input.Span, j.L, j.Padded, first, end, j.BlockedInput));
                                ParallelHelper.For(part.Units, unitGrain, part, static (j, first, end) => Run(j, first, end));
                            }
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
                    if (!inPlace) ArrayPool<T>.Shared.Return(padded);
                }
                return;
            }
            int imageGrain = (int)Math.Clamp((1L << 17) / Math.Max(1, g.MacsPerImage), 1, int.MaxValue);
            ParallelHelper.For(g.Batch, imageGrain, (start, end) =>
            {
                T[] padded = inPlace ? [] : ArrayPool<T>.Shared.Rent(bufferLength);
                try
                {
                    for (int n = start; n < end; n++)
                    {
                        for (int grp = 0; grp < g.Groups; grp++)
                        {
                            var planes = input.Span.Slice((n * g.Groups + grp) * groupIn, groupIn);
                            if (blocked && !inPlace) PadBlocked(planes, l, padded, 0, l.Channels / Lanes, blockedInput);
                            else if (!blocked) Pad(planes, l, padded);
                            var part = Part(job, padded, n, grp);
                            Run(part, 0, part.Units);
                            if (after != Activation.None) GemmEpilogue.Activate<T>(part.Output.Span, part.Output.Span, after);
                        }
                    }
                }
                finally
                {
                    if (!inPlace) ArrayPool<T>.Shared.Return(padded);
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
        if (!j.RowTiles) RunColumnTiles(j, first, end);
        else if (!j.Blocked) RunRowTiles<R1>(j, first, end);
        else if (j.L.StrideW == 1) RunRowTiles<BlockStride1>(j, first, end);
        else RunRowTiles<BlockStride2>(j, first, end);
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
    /// (block, output row) units: each row split into chunks of at most MaxPositions outputs, one row tile per chunk,
    /// written through a small transposing buffer with the epilogue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRowTiles<TStep>(PackedJob j, int first, int end) where TStep : struct, IRowCount
    {
        var l = j.L;
        int blockRows = BlockRows, outHeight = l.OutHeight, outWidth = l.OutWidth, plane = j.OutPlane, blocks = (j.Rows + blockRows - 1) / blockRows;
        // Where output (oh, ow)'s window starts: on the grid of padded planes, or in the blocked image (pixel-major
        // within each block of Lanes channels, no stride phases: output column ow reads pixel s·ow).
        nint rowStep = j.Blocked ? (nint)l.StrideH * l.PaddedWidth * Lanes : l.GridWidth, columnStep = j.Blocked ? TStep.Count : 1;
        // Equal chunks (9 outputs as 5 + 4, not 8 + 1): a narrow tile costs nearly as many loads as a wide one.
        int chunks = (outWidth + MaxPositions - 1) / MaxPositions;
        // Room for 2·MaxPositions positions: the vector epilogue transposes 16 positions at a time, the rest unused.
        T* tile = stackalloc T[2 * MaxPositions * BlockRows];
        bool vectorEpilogue = j.Blocked && typeof(T) == typeof(float) && Avx512F.IsSupported && BlockRows == 32;
        fixed (T* padded = j.Padded, source = j.Input.Span, wp = j.Weights, yp = j.Output.Span, bp = j.Bias.Span, rp = j.Residual.Span)
        fixed (int* op = j.Offsets)
        {
            T* xp = j.InPlace ? source : padded;
            // A block's weights are read once per output row: the first row takes them from memory (ResNet18's 512 →
            // 512 layers hold 590 KB per block, 9.4 MB per layer, read once per run), at far fewer FMAs per byte than
            // the FMAs could use. So each row prefetches its share of the next block's cache lines into L2, spread
            // over its taps, and the next block starts from L2 (ResNet18's last stage: ~1.8 → ~1.4 ms per layer).
            long lines = (long)j.K * blockRows * sizeof(T) / 64;
            for (int unit = first; unit < end; unit++)
            {
                // Row-major units (j.RowMajor): each thread takes whole output rows, every block of them.
                int o = j.RowMajor ? unit % blocks * blockRows : unit / outHeight * blockRows, oh = j.RowMajor ? unit / blocks : unit % outHeight;
                int rows = Math.Min(blockRows, j.Rows - o);
                T* w = wp + j.WeightBase + (nint)o * j.K;
                bool prefetch = !j.RowMajor && o + blockRows < j.Rows;
                int lineStart = (int)(oh * lines / outHeight), lineCount = prefetch ? (int)((oh + 1) * lines / outHeight) - lineStart : 0;
                byte* next = (byte*)(w + (nint)blockRows * j.K) + (nint)lineStart * 64;
                for (int chunk = 0; chunk < chunks; chunk++, lineCount = 0)
                {
                    int ow = chunk * outWidth / chunks, n = (chunk + 1) * outWidth / chunks - ow;
                    T* x = xp + oh * rowStep + ow * columnStep;
                    switch (n)
                    {
                        case 1: RowTile<R1, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                        case 2: RowTile<R2, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                        case 3: RowTile<R3, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                        case 4: RowTile<R4, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                        case 5: RowTile<R5, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                        case 6: RowTile<R6, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                        case 7: RowTile<R7, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                        default: RowTile<R8, TStep>(x, op, j.K, w, tile, next, lineCount); break;
                    }
                    nint at = (nint)oh * outWidth + ow;
                    if (j.BlockedOutput)
                    {
                        BlockedEpilogue(tile, n, rows, yp + ((nint)o * plane + at * Lanes), (nint)plane * Lanes,
                            rp == null ? null : rp + ((nint)o * plane + at * Lanes), bp == null ? null : bp + o, j.Relu);
                        continue;
                    }
                    if (vectorEpilogue)
                    {
                        TransposedEpilogue((float*)tile, n, rows, (float*)yp + (nint)o * plane + at, plane,
                            rp == null ? null : (float*)rp + (nint)o * plane + at, bp == null ? null : (float*)bp + o, j.Relu);
                        continue;
                    }
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
            }
        }
    }

    /// <summary>
    /// One row tile: 2 vectors of output channels × TPositions consecutive outputs, summed over all k taps in the column
    /// tile's order (so both give the same bits); tile[i·BlockRows + c] = output c at position i. Prefetches the
    /// <paramref name="prefetchLines"/> cache lines from <paramref name="prefetch"/> into L2 along the way, at most two per tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTile<TPositions, TStep>(T* x, int* offsets, int k, T* w, T* tile, byte* prefetch, int prefetchLines)
        where TPositions : struct, IRowCount where TStep : struct, IRowCount
    {
        int n = TPositions.Count;
        nint step = TStep.Count; // elements from one output's input pixel to the next's: 1 on the grid, s·Lanes blocked
        nint lanes = Vector512<T>.Count;
        Vector512<T> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        Vector512<T> a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
        for (int p = 0; p < k; p++, w += 2 * lanes)
        {
            if (Sse.IsSupported && p < prefetchLines)
            {
                Sse.Prefetch1(prefetch + (nint)p * 64);
                if (p + k < prefetchLines) Sse.Prefetch1(prefetch + (nint)(p + k) * 64);
            }
            T* xp = x + offsets[p];
            var lo = Vector512.Load(w);
            var hi = Vector512.Load(w + lanes);
            Vector512<T> v = Vector512.Create(xp[0]);
            a0 = GemmFma.Fma(v, lo, a0); b0 = GemmFma.Fma(v, hi, b0);
            if (n > 1) { v = Vector512.Create(xp[1 * step]); a1 = GemmFma.Fma(v, lo, a1); b1 = GemmFma.Fma(v, hi, b1); }
            if (n > 2) { v = Vector512.Create(xp[2 * step]); a2 = GemmFma.Fma(v, lo, a2); b2 = GemmFma.Fma(v, hi, b2); }
            if (n > 3) { v = Vector512.Create(xp[3 * step]); a3 = GemmFma.Fma(v, lo, a3); b3 = GemmFma.Fma(v, hi, b3); }
            if (n > 4) { v = Vector512.Create(xp[4 * step]); a4 = GemmFma.Fma(v, lo, a4); b4 = GemmFma.Fma(v, hi, b4); }
            if (n > 5) { v = Vector512.Create(xp[5 * step]); a5 = GemmFma.Fma(v, lo, a5); b5 = GemmFma.Fma(v, hi, b5); }
            if (n > 6) { v = Vector512.Create(xp[6 * step]); a6 = GemmFma.Fma(v, lo, a6); b6 = GemmFma.Fma(v, hi, b6); }
            if (n > 7) { v = Vector512.Create(xp[7 * step]); a7 = GemmFma.Fma(v, lo, a7); b7 = GemmFma.Fma(v, hi, b7); }
        }
        a0.Store(tile); b0.Store(tile + lanes);
        if (n > 1) { a1.Store(tile + 2 * lanes); b1.Store(tile + 3 * lanes); }
        if (n > 2) { a2.Store(tile + 4 * lanes); b2.Store(tile + 5 * lanes); }
        if (n > 3) { a3.Store(tile + 6 * lanes); b3.Store(tile + 7 * lanes); }
        if (n > 4) { a4.Store(tile + 8 * lanes); b4.Store(tile + 9 * lanes); }
        if (n > 5) { a5.Store(tile + 10 * lanes); b5.Store(tile + 11 * lanes); }
        if (n > 6) { a6.Store(tile + 12 * lanes); b6.Store(tile + 13 * lanes); }
        if (n > 7) { a7.Store(tile + 14 * lanes); b7.Store(tile + 15 * lanes); }
    }
}
