namespace Loom.Kernels;

/// <summary>
/// Convolution computed straight from a zero-padded copy of each image, with no column matrix: forward, input gradient
/// (the same kernel; stride 1 only) and weight gradient, on Vector512 for float and double, for strides 1 and 2.
/// </summary>
/// <remarks>
/// The grid trick. Pad each channel to Hp × Wp and let the output run over a grid of OH rows × Wp columns instead of
/// OH × OW. Grid position q = oh·Wp + ow reads the padded input at q + ki·dH·Wp + kj·dW for tap (ki, kj), so every tap
/// of every channel is one contiguous window of the padded planes, shifted by a constant offset: a tile of 2 vectors
/// of grid positions is two plain loads per tap, times one broadcast weight per output channel. Grid columns
/// ow ≥ OW are garbage (their windows wrap into the next row); they are dropped when the grid is copied out. The waste
/// is (Wp − OW) / Wp of the work: 12.5 % for LeNet-5's first layer, 29 % for its second.
/// <para>
/// Why not im2col + GEMM here: with 6 or 16 output channels the GEMM's 12×32 register tile is mostly edge and K = 25 is
/// too short to amortise its stores (12 GFLOP/s measured for [6 × 25]·[25 × 50176], docs/notes/conv.md); the column
/// matrix is also kH·kW times the image. This kernel's tile is as tall as the layer (up to 8 channels) and needs none.
/// </para>
/// <para>
/// Input gradient: for stride 1, dx = conv2d(dy padded by d(k − 1) − p, w flipped in space with in/out channels
/// swapped), which is the forward kernel again. Weight gradient: dW[o, c, ki, kj] = Σ_n Σ_q dy_grid[n, o, q] ·
/// x_pad[n, c, q + offset(ki, kj)], with dy spread onto the grid (zeros in the garbage columns): dot products along the
/// grid, accumulated per (o, tap) in vector registers and summed across lanes once at the end.
/// </para>
/// </remarks>
internal static unsafe partial class DirectConv<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static int Lanes => Vector512<T>.Count;

    /// <summary>Grid positions per forward tile: two vectors, so that each broadcast weight feeds two FMAs.</summary>
    private static int TileWidth => 2 * Vector512<T>.Count;

    /// <summary>Output channels per forward tile: 8 rows × 2 vectors = 16 accumulators, enough to hide FMA latency.</summary>
    private const int MaxRows = 8;

    /// <summary>Weight-gradient tile: 4 output channels × 3 taps = 12 accumulators; 7 loads per 12 FMAs.</summary>
    private const int WgradRows = 4, WgradTaps = 3;

    public static bool IsSupported => Vector512.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

    /// <summary>
    /// Padded planes of one image group and the output grid they produce. <see cref="Channels"/> planes [Height, Width]
    /// are padded to [PaddedHeight, PaddedWidth]; the grid has <see cref="OutHeight"/> rows of <see cref="GridWidth"/>
    /// positions, of which the first <see cref="OutWidth"/> of each row are real outputs.
    /// </summary>
    /// <remarks>
    /// Stride s > 1 keeps every tap a contiguous window by splitting each padded plane into its phases (space to
    /// depth): phase (a, b) holds the padded pixels (s·r + a, s·t + b) as a plane [PhaseHeight, PhaseWidth], and tap
    /// (ki, kj) of output (oh, ow) reads phase (ki·d mod s, kj·d mod s) at (oh + ⌊ki·d / s⌋, ow + ⌊kj·d / s⌋): the stride-1
    /// grid again, of PhaseWidth columns. Only the phases some tap reads are stored (one for a 1×1 stride-2 kernel).
    /// For stride 1 there is one phase, the padded plane itself.
    /// </remarks>
    private readonly record struct Layout(int Channels, int Height, int Width, int PadH, int PadW, int KernelH, int KernelW, int DilationH, int DilationW,
        int StrideH = 1, int StrideW = 1)
    {
        public int PaddedHeight => Height + 2 * PadH;

        public int PaddedWidth => Width + 2 * PadW;

        public int PhaseHeight => (PaddedHeight + StrideH - 1) / StrideH;

        public int PhaseWidth => (PaddedWidth + StrideW - 1) / StrideW;

        /// <summary>Row phases some tap reads (ki·dH mod sH over ki); likewise <see cref="ColumnPhases"/>.</summary>
        public int RowPhases => PhaseRank(StrideH, KernelH, DilationH, StrideH);

        public int ColumnPhases => PhaseRank(StrideW, KernelW, DilationW, StrideW);

        public int PhasePlane => PhaseHeight * PhaseWidth;

        /// <summary>One channel's stored phases.</summary>
        public int Plane => RowPhases * ColumnPhases * PhasePlane;

        public int OutHeight => (PaddedHeight - DilationH * (KernelH - 1) - 1) / StrideH + 1;

        public int OutWidth => (PaddedWidth - DilationW * (KernelW - 1) - 1) / StrideW + 1;

        /// <summary>Grid positions per output row.</summary>
        public int GridWidth => PhaseWidth;

        public int Taps => KernelH * KernelW;

        /// <summary>Grid positions, rounded up to whole tiles (the extra positions are garbage too).</summary>
        public int Grid => (OutHeight * GridWidth + TileWidth - 1) / TileWidth * TileWidth;

        /// <summary>
        /// Stored phases plus the tail that the last tile reads: the last grid position reads up to Plane + (Grid −
        /// OutHeight·GridWidth) + ⌊dW(kW − 1) / sW⌋ − 1 past the start of the last channel.
        /// </summary>
        public int BufferLength => Channels * Plane + TileWidth + DilationW * (KernelW - 1) / StrideW;

        /// <summary>offsets[c·kH·kW + ki·kW + kj] = where tap (ki, kj) of channel c starts, relative to the grid position.</summary>
        public void FillOffsets(Span<int> offsets)
        {
            int columnPhases = ColumnPhases;
            for (int c = 0, k = 0; c < Channels; c++)
            {
                for (int ki = 0; ki < KernelH; ki++)
                {
                    for (int kj = 0; kj < KernelW; kj++, k++)
                    {
                        int phase = PhaseRank(ki * DilationH % StrideH, KernelH, DilationH, StrideH) * columnPhases
                            + PhaseRank(kj * DilationW % StrideW, KernelW, DilationW, StrideW);
                        offsets[k] = c * Plane + phase * PhasePlane + ki * DilationH / StrideH * PhaseWidth + kj * DilationW / StrideW;
                    }
                }
            }
        }

        /// <summary>
        /// How many of the residues ki·d mod s (0 ≤ ki &lt; kernel) are below <paramref name="residue"/>: the index of that
        /// residue's phase among the stored ones; for residue = s, how many phases are stored along the axis.
        /// </summary>
        private static int PhaseRank(int residue, int kernel, int dilation, int stride)
        {
            int rank = 0;
            for (int r = 0; r < residue; r++) rank += Reached(r, kernel, dilation, stride) ? 1 : 0;
            return rank;
        }
    }

    /// <summary>
    /// Whether the direct kernels compute this convolution: stride 1 or 2 (a larger stride stores s² phases of mostly
    /// unread pixels), and an output of exactly the size the padded image gives (not so for the geometry of a
    /// transposed convolution with output padding, whose last rows no window reaches).
    /// </summary>
    public static bool Applies(in Conv2dGeometry g) =>
        IsSupported && g.StrideH is 1 or 2 && g.StrideW is 1 or 2
        && g.OutHeight == Conv2dGeometry.OutputSize(g.Height, g.KernelH, g.StrideH, g.PadH, g.DilationH)
        && g.OutWidth == Conv2dGeometry.OutputSize(g.Width, g.KernelW, g.StrideW, g.PadW, g.DilationW) && g.OutHeight > 0 && g.OutWidth > 0;

    /// <summary>
    /// Whether the input gradient is a direct convolution too: stride 1 only (the adjoint of a strided convolution is
    /// a convolution of the dilated gradient), and it needs the padding d(k − 1) − p ≥ 0.
    /// </summary>
    public static bool AppliesToInputGrad(in Conv2dGeometry g) =>
        Applies(g) && g.StrideH == 1 && g.StrideW == 1 && g.PadH <= g.DilationH * (g.KernelH - 1) && g.PadW <= g.DilationW * (g.KernelW - 1);

    /// <summary>
    /// output = activation(conv2d(input, weight) + bias + residual); <paramref name="bias"/> and <paramref name="residual"/>
    /// are empty for none. Overwrites output.
    /// </summary>
    public static void Forward(ReadOnlyMemory<T> input, ReadOnlyMemory<T> weight, ReadOnlyMemory<T> bias, Conv2dGeometry g, Memory<T> output,
        ReadOnlyMemory<T> residual = default, Activation activation = Activation.None)
    {
        var layout = new Layout(g.InPerGroup, g.Height, g.Width, g.PadH, g.PadW, g.KernelH, g.KernelW, g.DilationH, g.DilationW, g.StrideH, g.StrideW);
        int k = g.ColumnRows, rows = g.OutPerGroup;
        T[] wt = ArrayPool<T>.Shared.Rent(g.Groups * k * rows);
        try
        {
            // wt[grp][tap k][o] = w[grp·rows + o, k]: a tile's weights for one tap are adjacent.
            var w = weight.Span;
            for (int grp = 0; grp < g.Groups; grp++)
                for (int o = 0; o < rows; o++)
                    for (int p = 0; p < k; p++)
                        wt[(grp * k + p) * rows + o] = w[(grp * rows + o) * k + p];
            Convolve(input, g.Batch, g.Groups, layout, wt, rows, bias, output, g.MacsPerImage, residual, activation);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(wt);
        }
    }

    /// <summary>gradInput = conv2d's input gradient, as a direct convolution of the padded dy. Overwrites gradInput.</summary>
    public static void InputGrad(ReadOnlyMemory<T> gradOutput, ReadOnlyMemory<T> weight, Conv2dGeometry g, Memory<T> gradInput)
    {
        int padH = g.DilationH * (g.KernelH - 1) - g.PadH, padW = g.DilationW * (g.KernelW - 1) - g.PadW;
        var layout = new Layout(g.OutPerGroup, g.OutHeight, g.OutWidth, padH, padW, g.KernelH, g.KernelW, g.DilationH, g.DilationW);
        int taps = layout.Taps, inRows = g.InPerGroup, outRows = g.OutPerGroup;
        T[] wt = ArrayPool<T>.Shared.Rent(g.WeightSize);
        try
        {
            // wt[grp][o, ki, kj][c] = w[grp·outRows + o, c, kH − 1 − ki, kW − 1 − kj]: flipped, channels swapped.
            var w = weight.Span;
            for (int grp = 0; grp < g.Groups; grp++)
                for (int o = 0; o < outRows; o++)
                    for (int c = 0; c < inRows; c++)
                        for (int t = 0; t < taps; t++)
                            wt[((grp * outRows + o) * taps + t) * inRows + c] = w[((grp * outRows + o) * inRows + c) * taps + taps - 1 - t];
            Convolve(gradOutput, g.Batch, g.Groups, layout, wt, inRows, ReadOnlyMemory<T>.Empty, gradInput, g.MacsPerImage);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(wt);
        }
    }

    /// <summary>
    /// The shared driver: per image and group, pad the input planes, run the tiles over the grid, copy the real columns
    /// out (adding the bias). Parallel over images, each thread with its own padded and grid buffers.
    /// </summary>
    private static void Convolve(ReadOnlyMemory<T> input, int batch, int groups, Layout l, T[] weights, int rows, ReadOnlyMemory<T> bias,
        Memory<T> output, long macsPerImage, ReadOnlyMemory<T> residual = default, Activation activation = Activation.None)
    {
        int groupIn = l.Channels * l.Height * l.Width, groupOut = rows * l.OutHeight * l.OutWidth, k = l.Channels * l.Taps;
        if (batch < Threads.Count)
        {
            ConvolveSplittingTiles(input, batch, groups, l, weights, rows, bias, output, residual, activation);
            return;
        }
        int grain = (int)Math.Clamp((1L << 17) / Math.Max(1, macsPerImage), 1, int.MaxValue);
        ParallelHelper.For(batch, grain, (start, end) =>
        {
            T[] padded = ArrayPool<T>.Shared.Rent(l.BufferLength);
            T[] grid = ArrayPool<T>.Shared.Rent(rows * l.Grid);
            int[] offsets = ArrayPool<int>.Shared.Rent(k);
            try
            {
                l.FillOffsets(offsets);
                fixed (T* xp = padded, yp = grid, wp = weights)
                fixed (int* op = offsets)
                {
                    for (int n = start; n < end; n++)
                    {
                        for (int grp = 0; grp < groups; grp++)
                        {
                            Pad(input.Span.Slice((n * groups + grp) * groupIn, groupIn), l, padded);
                            RunTiles(xp, op, k, wp + grp * k * rows, rows, yp, l.Grid, 0, l.Grid);
                            var y = output.Span.Slice((n * groups + grp) * groupOut, groupOut);
                            var b = bias.IsEmpty ? default : bias.Span.Slice(grp * rows, rows);
                            var r = residual.IsEmpty ? default : residual.Span.Slice((n * groups + grp) * groupOut, groupOut);
                            Extract(new ReadOnlySpan<T>(yp, rows * l.Grid), l, b, r, y);
                            if (activation != Activation.None) GemmEpilogue.Activate(y, y, activation);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<int>.Shared.Return(offsets);
                ArrayPool<T>.Shared.Return(grid);
                ArrayPool<T>.Shared.Return(padded);
            }
        });
    }

    /// <summary>
    /// <see cref="Convolve"/> for fewer images than threads (inference at batch 1): each image's grid tiles are shared
    /// out instead, so one image uses every thread. Padding and extraction stay on the calling thread (a copy each).
    /// </summary>
    private static void ConvolveSplittingTiles(ReadOnlyMemory<T> input, int batch, int groups, Layout l, T[] weights, int rows, ReadOnlyMemory<T> bias,
        Memory<T> output, ReadOnlyMemory<T> residual, Activation activation)
    {
        int groupIn = l.Channels * l.Height * l.Width, groupOut = rows * l.OutHeight * l.OutWidth, k = l.Channels * l.Taps;
        int tiles = l.Grid / TileWidth;
        int grain = (int)Math.Clamp((1L << 17) / Math.Max(1L, (long)rows * k * TileWidth), 1, int.MaxValue);
        T[] padded = ArrayPool<T>.Shared.Rent(l.BufferLength);
        T[] grid = ArrayPool<T>.Shared.Rent(rows * l.Grid);
        int[] offsets = ArrayPool<int>.Shared.Rent(k);
        try
        {
            l.FillOffsets(offsets);
            for (int n = 0; n < batch; n++)
            {
                for (int grp = 0; grp < groups; grp++)
                {
                    Pad(input.Span.Slice((n * groups + grp) * groupIn, groupIn), l, padded);
                    int group = grp;
                    ParallelHelper.For(tiles, grain, (first, end) =>
                    {
                        fixed (T* xp = padded, yp = grid, wp = weights)
                        fixed (int* op = offsets)
                            RunTiles(xp, op, k, wp + group * k * rows, rows, yp, l.Grid, first * TileWidth, end * TileWidth);
                    });
                    var y = output.Span.Slice((n * groups + grp) * groupOut, groupOut);
                    var b = bias.IsEmpty ? default : bias.Span.Slice(grp * rows, rows);
                    var r = residual.IsEmpty ? default : residual.Span.Slice((n * groups + grp) * groupOut, groupOut);
                    Extract(grid.AsSpan(0, rows * l.Grid), l, b, r, y);
                    if (activation != Activation.None) GemmEpilogue.Activate(y, y, activation);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<T>.Shared.Return(grid);
            ArrayPool<T>.Shared.Return(padded);
        }
    }

    /// <summary>
    /// Copies planes [Channels, Height, Width] into the middle of zeroed [PaddedHeight, PaddedWidth] planes (into their
    /// stored phases when strided), and zeroes the tail.
    /// </summary>
    private static void Pad(ReadOnlySpan<T> planes, in Layout l, Span<T> padded) => Pad(planes, l, padded, 0, l.Channels);

    /// <summary>
    /// <see cref="Pad(ReadOnlySpan{T}, in Layout, Span{T})"/> for channels [first, end) only, so that threads can share
    /// one image's padding; the range that ends at the last channel also zeroes the tail.
    /// </summary>
    private static void Pad(ReadOnlySpan<T> planes, in Layout l, Span<T> padded, int first, int end)
    {
        int wp = l.PaddedWidth, top = l.PadH * wp, plane = l.Height * l.Width;
        for (int c = first; c < end; c++)
        {
            var dst = padded.Slice(c * l.Plane, l.Plane);
            var src = planes.Slice(c * plane, plane);
            if (l.StrideH != 1 || l.StrideW != 1)
            {
                PadPhases(src, l, dst);
                continue;
            }
            dst[..top].Clear();
            dst[(l.Plane - top)..].Clear();
            if (l.PadW == 0)
            {
                src.CopyTo(dst.Slice(top, src.Length));
                continue;
            }
            for (int i = 0; i < l.Height; i++)
            {
                var row = dst.Slice(top + i * wp, wp);
                row[..l.PadW].Clear();
                src.Slice(i * l.Width, l.Width).CopyTo(row.Slice(l.PadW, l.Width));
                row[(l.PadW + l.Width)..].Clear();
            }
        }
        if (end == l.Channels) padded[(l.Channels * l.Plane)..l.BufferLength].Clear();
    }

    /// <summary>
    /// One channel of <see cref="Pad(ReadOnlySpan{T}, in Layout, Span{T})"/> for a strided layout: phase (a, b) row r,
    /// column t holds the padded pixel (s·r + a, s·t + b), that is input pixel (s·r + a − padH, s·t + b − padW), or zero
    /// outside the image.
    /// </summary>
    private static void PadPhases(ReadOnlySpan<T> src, in Layout l, Span<T> dst)
    {
        int sh = l.StrideH, sw = l.StrideW, hq = l.PhaseHeight, wq = l.PhaseWidth;
        dst.Clear();
        if (sw == 2)
        {
            PadTwoColumnPhases(src, l, dst);
            return;
        }
        int phase = 0;
        for (int a = 0; a < sh; a++)
        {
            if (!Reached(a, l.KernelH, l.DilationH, sh)) continue;
            for (int b = 0; b < sw; b++)
            {
                if (!Reached(b, l.KernelW, l.DilationW, sw)) continue;
                var plane = dst.Slice(phase++ * l.PhasePlane, l.PhasePlane);
                // Columns t whose input column s·t + b − padW lies in [0, Width).
                int t0 = Math.Max(0, (l.PadW - b + sw - 1) / sw), t1 = Math.Min(wq, (l.Width + l.PadW - b + sw - 1) / sw);
                for (int r = 0; r < hq; r++)
                {
                    int ih = sh * r + a - l.PadH;
                    if ((uint)ih >= (uint)l.Height) continue;
                    var row = src.Slice(ih * l.Width, l.Width);
                    var outRow = plane.Slice(r * wq, wq);
                    for (int t = t0, iw = sw * t0 + b - l.PadW; t < t1; t++, iw += sw) outRow[t] = row[iw];
                }
            }
        }
    }

    /// <summary>
    /// <see cref="PadPhases"/> for column stride 2 (every strided layer of ResNet18): each input row goes to the even and
    /// odd column phases of its row phase in one vectorised split instead of one strided copy per phase.
    /// </summary>
    private static void PadTwoColumnPhases(ReadOnlySpan<T> src, in Layout l, Span<T> dst)
    {
        int sh = l.StrideH, wq = l.PhaseWidth, columnPhases = l.ColumnPhases;
        bool evenStored = Reached(0, l.KernelW, l.DilationW, 2), oddStored = Reached(1, l.KernelW, l.DilationW, 2);
        int rowPhase = 0;
        for (int a = 0; a < sh; a++)
        {
            if (!Reached(a, l.KernelH, l.DilationH, sh)) continue;
            int evenPlane = rowPhase * columnPhases * l.PhasePlane, oddPlane = evenPlane + (evenStored ? l.PhasePlane : 0);
            rowPhase++;
            for (int r = 0; r < l.PhaseHeight; r++)
            {
                int ih = sh * r + a - l.PadH;
                if ((uint)ih >= (uint)l.Height) continue;
                // Input column iw is padded column j = iw + padW: phase j mod 2, position j / 2. So column 0 goes to
                // phase padW mod 2 at padW / 2, column 1 to the other phase at (padW + 1) / 2, and so on alternately.
                var even = evenStored ? dst.Slice(evenPlane + r * wq, wq) : default;
                var odd = oddStored ? dst.Slice(oddPlane + r * wq, wq) : default;
                var row = src.Slice(ih * l.Width, l.Width);
                if (l.PadW % 2 == 0) EvenOdd.Split(row, From(even, l.PadW / 2), From(odd, l.PadW / 2));
                else EvenOdd.Split(row, From(odd, l.PadW / 2), From(even, (l.PadW + 1) / 2));
            }
        }

        static Span<T> From(Span<T> row, int start) => row.IsEmpty ? row : row[start..];
    }

    /// <summary>Whether some tap ki (0 ≤ ki &lt; kernel) has ki·d ≡ residue (mod s): whether that phase is stored.</summary>
    private static bool Reached(int residue, int kernel, int dilation, int stride)
    {
        for (int k = 0; k < Math.Min(kernel, stride); k++) // ki·d mod s repeats with period s
            if (k * dilation % stride == residue) return true;
        return false;
    }

    /// <summary>Copies the real columns of the grid [rows, Grid] to output planes [rows, OutHeight, OutWidth], adding bias[row] when given.</summary>
    private static void Extract(ReadOnlySpan<T> grid, in Layout l, ReadOnlySpan<T> bias, ReadOnlySpan<T> residual, Span<T> output)
    {
        int rows = output.Length / (l.OutHeight * l.OutWidth);
        for (int o = 0; o < rows; o++)
        {
            for (int i = 0; i < l.OutHeight; i++)
            {
                var src = grid.Slice(o * l.Grid + i * l.GridWidth, l.OutWidth);
                var dst = output.Slice((o * l.OutHeight + i) * l.OutWidth, l.OutWidth);
                if (bias.IsEmpty) src.CopyTo(dst);
                else System.Numerics.Tensors.TensorPrimitives.Add(src, bias[o], dst);
                if (!residual.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(dst, residual.Slice((o * l.OutHeight + i) * l.OutWidth, l.OutWidth), dst);
            }
        }
    }

    /// <summary>grid[o, q] = Σ_k w[k, o] · x[q + offsets[k]] for every tile of the grid and every block of rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunTiles(T* x, int* offsets, int k, T* w, int rows, T* grid, int gridLength, int qStart, int qEnd)
    {
        for (int q = qStart; q < qEnd; q += TileWidth)
        {
            for (int o = 0; o < rows; o += MaxRows)
            {
                T* wo = w + o;
                T* y = grid + (nint)o * gridLength + q;
                switch (Math.Min(MaxRows, rows - o))
                {
                    case 1: ForwardTile<R1>(x + q, offsets, k, wo, rows, y, gridLength); break;
                    case 2: ForwardTile<R2>(x + q, offsets, k, wo, rows, y, gridLength); break;
                    case 3: ForwardTile<R3>(x + q, offsets, k, wo, rows, y, gridLength); break;
                    case 4: ForwardTile<R4>(x + q, offsets, k, wo, rows, y, gridLength); break;
                    case 5: ForwardTile<R5>(x + q, offsets, k, wo, rows, y, gridLength); break;
                    case 6: ForwardTile<R6>(x + q, offsets, k, wo, rows, y, gridLength); break;
                    case 7: ForwardTile<R7>(x + q, offsets, k, wo, rows, y, gridLength); break;
                    default: ForwardTile<R8>(x + q, offsets, k, wo, rows, y, gridLength); break;
                }
            }
        }
    }

    /// <summary>
    /// One tile: TRows output channels × 2 vectors of grid positions, summed over all k taps. The row count is a type
    /// argument so that the JIT drops the unused accumulators and keeps the rest in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile<TRows>(T* x, int* offsets, int k, T* w, nint ldw, T* y, nint ldy) where TRows : struct, IRowCount
    {
        int r = TRows.Count;
        Vector512<T> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        Vector512<T> a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
        nint lanes = Vector512<T>.Count;
        for (int p = 0; p < k; p++, w += ldw)
        {
            T* xp = x + offsets[p];
            var lo = Vector512.Load(xp);
            var hi = Vector512.Load(xp + lanes);
            Vector512<T> v = Vector512.Create(w[0]);
            a0 = GemmFma.Fma(v, lo, a0); b0 = GemmFma.Fma(v, hi, b0);
            if (r > 1) { v = Vector512.Create(w[1]); a1 = GemmFma.Fma(v, lo, a1); b1 = GemmFma.Fma(v, hi, b1); }
            if (r > 2) { v = Vector512.Create(w[2]); a2 = GemmFma.Fma(v, lo, a2); b2 = GemmFma.Fma(v, hi, b2); }
            if (r > 3) { v = Vector512.Create(w[3]); a3 = GemmFma.Fma(v, lo, a3); b3 = GemmFma.Fma(v, hi, b3); }
            if (r > 4) { v = Vector512.Create(w[4]); a4 = GemmFma.Fma(v, lo, a4); b4 = GemmFma.Fma(v, hi, b4); }
            if (r > 5) { v = Vector512.Create(w[5]); a5 = GemmFma.Fma(v, lo, a5); b5 = GemmFma.Fma(v, hi, b5); }
            if (r > 6) { v = Vector512.Create(w[6]); a6 = GemmFma.Fma(v, lo, a6); b6 = GemmFma.Fma(v, hi, b6); }
            if (r > 7) { v = Vector512.Create(w[7]); a7 = GemmFma.Fma(v, lo, a7); b7 = GemmFma.Fma(v, hi, b7); }
        }
        a0.Store(y); b0.Store(y + lanes);
        if (r > 1) { a1.Store(y + ldy); b1.Store(y + ldy + lanes); }
        if (r > 2) { a2.Store(y + 2 * ldy); b2.Store(y + 2 * ldy + lanes); }
        if (r > 3) { a3.Store(y + 3 * ldy); b3.Store(y + 3 * ldy + lanes); }
        if (r > 4) { a4.Store(y + 4 * ldy); b4.Store(y + 4 * ldy + lanes); }
        if (r > 5) { a5.Store(y + 5 * ldy); b5.Store(y + 5 * ldy + lanes); }
        if (r > 6) { a6.Store(y + 6 * ldy); b6.Store(y + 6 * ldy + lanes); }
        if (r > 7) { a7.Store(y + 7 * ldy); b7.Store(y + 7 * ldy + lanes); }
    }

    /// <summary>
    /// gradWeight[o, c, ki, kj] = Σ_n Σ_q dy_grid[n, o, q] · x_pad[n, c, q + offset(ki, kj)]. Threads keep vector partial
    /// sums per (o, tap) over their images; the lanes, then the threads' sums in batch order, are summed at the end. Overwrites
    /// gradWeight.
    /// </summary>
    public static void WeightGrad(ReadOnlyMemory<T> input, ReadOnlyMemory<T> gradOutput, Conv2dGeometry g, Memory<T> gradWeight)
    {
        var l = new Layout(g.InPerGroup, g.Height, g.Width, g.PadH, g.PadW, g.KernelH, g.KernelW, g.DilationH, g.DilationW, g.StrideH, g.StrideW);
        int k = g.ColumnRows, rows = g.OutPerGroup, groupIn = l.Channels * l.Height * l.Width, groupOut = rows * l.OutHeight * l.OutWidth;
        int kPadded = (k + WgradTaps - 1) / WgradTaps * WgradTaps, rowsPadded = (rows + WgradRows - 1) / WgradRows * WgradRows;
        int lanes = Lanes, accLength = g.Groups * rowsPadded * kPadded * lanes;
        int grain = (int)Math.Clamp((1L << 17) / Math.Max(1, g.MacsPerImage), 1, int.MaxValue);
        gradWeight.Span.Clear();
        var sums = new OrderedSums<T>(gradWeight.Length);
        ParallelHelper.For(g.Batch, grain, (start, end) =>
        {
            T[] padded = ArrayPool<T>.Shared.Rent(l.BufferLength);
            T[] dyGrid = ArrayPool<T>.Shared.Rent(rowsPadded * l.Grid);
            T[] acc = ArrayPool<T>.Shared.Rent(accLength);
            int[] offsets = ArrayPool<int>.Shared.Rent(kPadded);
            try
            {
                l.FillOffsets(offsets);
                // Taps past k repeat the last one so that every tile is whole; their sums are never read.
                for (int p = k; p < kPadded; p++) offsets[p] = offsets[k - 1];
                acc.AsSpan(0, accLength).Clear();
                // Rows past the group's channels (a partial last tile) read zeros.
                dyGrid.AsSpan(0, rowsPadded * l.Grid).Clear();
                fixed (T* xp = padded, dp = dyGrid, ap = acc)
                fixed (int* op = offsets)
                {
                    for (int n = start; n < end; n++)
                    {
                        for (int grp = 0; grp < g.Groups; grp++)
                        {
                            Pad(input.Span.Slice((n * g.Groups + grp) * groupIn, groupIn), l, padded);
                            Spread(gradOutput.Span.Slice((n * g.Groups + grp) * groupOut, groupOut), l, rows, dyGrid);
                            T* groupAcc = ap + (nint)grp * rowsPadded * kPadded * lanes;
                            for (int o = 0; o < rows; o += WgradRows)
                                for (int p = 0; p < k; p += WgradTaps)
                                    WeightGradTile(dp + (nint)o * l.Grid, l.Grid, xp, op + p, l.Grid / lanes,
                                        groupAcc + ((nint)o * kPadded + p) * lanes, (nint)kPadded * lanes);
                        }
                    }
                }
                var dw = sums.Rent(start);
                for (int grp = 0; grp < g.Groups; grp++)
                    for (int o = 0; o < rows; o++)
                        for (int p = 0; p < k; p++)
                            dw[(grp * rows + o) * k + p] = Vector512.Sum(Vector512.Create<T>(acc.AsSpan((((grp * rowsPadded) + o) * kPadded + p) * lanes, lanes)));
            }
            finally
            {
                ArrayPool<int>.Shared.Return(offsets);
                ArrayPool<T>.Shared.Return(acc);
                ArrayPool<T>.Shared.Return(dyGrid);
                ArrayPool<T>.Shared.Return(padded);
            }
        });
        sums.AddInto(gradWeight.Span);
    }

    /// <summary>Copies dy planes [rows, OutHeight, OutWidth] onto the grid [rows, Grid], leaving the garbage columns zero.</summary>
    private static void Spread(ReadOnlySpan<T> planes, in Layout l, int rows, Span<T> grid)
    {
        for (int o = 0; o < rows; o++)
            for (int i = 0; i < l.OutHeight; i++)
                planes.Slice((o * l.OutHeight + i) * l.OutWidth, l.OutWidth).CopyTo(grid.Slice(o * l.Grid + i * l.GridWidth, l.OutWidth));
    }

    /// <summary>
    /// acc[r, t] += Σ_v dy[r, v] · x[offsets[t] + v] over <paramref name="vectors"/> vectors of grid positions, for 4 rows of
    /// dy (rows past the end of the layer are zeros) and 3 taps, each accumulator a vector of per-lane partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradTile(T* dy, nint lddy, T* x, int* offsets, int vectors, T* acc, nint ldacc)
    {
        nint lanes = Vector512<T>.Count;
        T* x0 = x + offsets[0], x1 = x + offsets[1], x2 = x + offsets[2];
        T* d1 = dy + lddy, d2 = dy + 2 * lddy, d3 = dy + 3 * lddy;
        var a00 = Vector512.Load(acc); var a01 = Vector512.Load(acc + lanes); var a02 = Vector512.Load(acc + 2 * lanes);
        var a10 = Vector512.Load(acc + ldacc); var a11 = Vector512.Load(acc + ldacc + lanes); var a12 = Vector512.Load(acc + ldacc + 2 * lanes);
        var a20 = Vector512.Load(acc + 2 * ldacc); var a21 = Vector512.Load(acc + 2 * ldacc + lanes); var a22 = Vector512.Load(acc + 2 * ldacc + 2 * lanes);
        var a30 = Vector512.Load(acc + 3 * ldacc); var a31 = Vector512.Load(acc + 3 * ldacc + lanes); var a32 = Vector512.Load(acc + 3 * ldacc + 2 * lanes);
        for (nint v = 0, end = vectors * lanes; v < end; v += lanes)
        {
            var v0 = Vector512.Load(x0 + v);
            var v1 = Vector512.Load(x1 + v);
            var v2 = Vector512.Load(x2 + v);
            var d = Vector512.Load(dy + v);
            a00 = GemmFma.Fma(d, v0, a00); a01 = GemmFma.Fma(d, v1, a01); a02 = GemmFma.Fma(d, v2, a02);
            d = Vector512.Load(d1 + v);
            a10 = GemmFma.Fma(d, v0, a10); a11 = GemmFma.Fma(d, v1, a11); a12 = GemmFma.Fma(d, v2, a12);
            d = Vector512.Load(d2 + v);
            a20 = GemmFma.Fma(d, v0, a20); a21 = GemmFma.Fma(d, v1, a21); a22 = GemmFma.Fma(d, v2, a22);
            d = Vector512.Load(d3 + v);
            a30 = GemmFma.Fma(d, v0, a30); a31 = GemmFma.Fma(d, v1, a31); a32 = GemmFma.Fma(d, v2, a32);
        }
        a00.Store(acc); a01.Store(acc + lanes); a02.Store(acc + 2 * lanes);
        a10.Store(acc + ldacc); a11.Store(acc + ldacc + lanes); a12.Store(acc + ldacc + 2 * lanes);
        a20.Store(acc + 2 * ldacc); a21.Store(acc + 2 * ldacc + lanes); a22.Store(acc + 2 * ldacc + 2 * lanes);
        a30.Store(acc + 3 * ldacc); a31.Store(acc + 3 * ldacc + lanes); a32.Store(acc + 3 * ldacc + 2 * lanes);
    }

    private interface IRowCount
    {
        static abstract int Count { get; }
    }

    private struct R1 : IRowCount { public static int Count => 1; }
    private struct R2 : IRowCount { public static int Count => 2; }
    private struct R3 : IRowCount { public static int Count => 3; }
    private struct R4 : IRowCount { public static int Count => 4; }
    private struct R5 : IRowCount { public static int Count => 5; }
    private struct R6 : IRowCount { public static int Count => 6; }
    private struct R7 : IRowCount { public static int Count => 7; }
    private struct R8 : IRowCount { public static int Count => 8; }
}
