using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// The shape of one 2-D pooling: <see cref="Planes"/> independent planes [Height, Width] (all leading dimensions
/// flattened) become [OutHeight, OutWidth]; window (i, j) starts at (i·StrideH − PadH, j·StrideW − PadW).
/// Adaptive pooling uses only the sizes.
/// </summary>
internal readonly record struct Pool2dGeometry(
    int Planes, int Height, int Width, int OutHeight, int OutWidth,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    public int InPlane => Height * Width;

    public int OutPlane => OutHeight * OutWidth;

    /// <summary>
    /// PyTorch's output size: ⌊(size + 2p − d(k − 1) − 1) / s⌋ + 1, rounded up instead in ceil mode, where the last
    /// window must still start inside the input or its left padding.
    /// </summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, int dilation, bool ceilMode)
    {
        long span = (long)size + 2L * padding - (long)dilation * (kernel - 1) - 1;
        long o = (ceilMode ? FloorDiv(span + stride - 1, stride) : FloorDiv(span, stride)) + 1;
        if (ceilMode && (o - 1) * stride >= size + padding) o--;
        return (int)Math.Max(o, 0);
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// <summary>
/// Max, average and adaptive-average pooling over planes, forward and backward, parallel over planes. Max pooling
/// records the flat in-plane index of each maximum so that its backward is a scatter.
/// </summary>
internal static class PoolingKernels
{
    // Planes below this many window reads per thread stay on one thread.
    private const int ParallelWork = 1 << 15;

    /// <summary>output = max over each window, indices = where (in-plane flat index; −1 for a window wholly in the padding). NaN wins.</summary>
    public static void MaxPool2dForward<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, Memory<T> output, Memory<int> indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g, g.KernelH * g.KernelW), (start, end) =>
        {
            for (int p = start; p < end; p++)
                MaxPlane(input.Span.Slice(p * g.InPlane, g.InPlane), g, output.Span.Slice(p * g.OutPlane, g.OutPlane), indices.Span.Slice(p * g.OutPlane, g.OutPlane));
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPlane<T>(ReadOnlySpan<T> x, in Pool2dGeometry g, Span<T> y, Span<int> argmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            int h0 = oh * g.StrideH - g.PadH;
            for (int ow = 0; ow < g.OutWidth; ow++)
            {
                int w0 = ow * g.StrideW - g.PadW;
                T best = T.NegativeInfinity;
                int at = -1;
                for (int ki = 0; ki < g.KernelH; ki++)
                {
                    int ih = h0 + ki * g.DilationH;
                    if ((uint)ih >= (uint)g.Height) continue;
                    for (int kj = 0; kj < g.KernelW; kj++)
                    {
                        int iw = w0 + kj * g.DilationW;
                        if ((uint)iw >= (uint)g.Width) continue;
                        int i = ih * g.Width + iw;
                        T v = x[i];
                        if (at < 0 || v > best || T.IsNaN(v))
                        {
                            best = v;
                            at = i;
                        }
                    }
                }
                y[oh * g.OutWidth + ow] = best;
                argmax[oh * g.OutWidth + ow] = at;
            }
        }
    }

    /// <summary>
    /// output = max over each window, without recording where (inference: nothing will scatter a gradient back). Per
    /// output row, the window's rows are first reduced element-wise (vectorised along the row), then each window reads
    /// kW values of that row maximum; the indexed kernel's per-window scan was 8 ms of ResNet18's 3×3/2 pool at batch 1.
    /// With stride 2 along rows that second step is vectorised too (ResNet18's stem pool at one thread: 1.09 → 0.35–0.53
    /// ms, docs/notes/onnx.md, session 26). NaN wins, as there; a window wholly in the padding gives −∞.
    /// </summary>
    public static void MaxPool2dForward<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, Memory<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g, g.KernelH * g.KernelW), (start, end) =>
        {
            // Stride 2 along rows: the row maximum sits at PadW in a row of −∞ (P), split into its even and odd
            // elements E and O, so that tap kj of every window is one shifted vector range (E or O from kj / 2).
            bool split = g.StrideW == 2 && g.DilationW == 1;
            int length = split ? Math.Max(g.PadW + g.Width + 1, 2 * (g.OutWidth + g.KernelW)) / 2 * 2 : g.Width; // even: E and O alike
            T[] rowMax = System.Buffers.ArrayPool<T>.Shared.Rent(split ? 2 * length : length);
            try
            {
                for (int p = start; p < end; p++)
                    MaxPlane(input.Span.Slice(p * g.InPlane, g.InPlane), g, output.Span.Slice(p * g.OutPlane, g.OutPlane), rowMax.AsSpan(0, length),
                        split ? rowMax.AsSpan(length, length) : default);
            }
            finally
            {
                System.Buffers.ArrayPool<T>.Shared.Return(rowMax);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPlane<T>(ReadOnlySpan<T> x, in Pool2dGeometry g, Span<T> y, Span<T> rowMax, Span<T> phases)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool split = !phases.IsEmpty;
        var max = split ? rowMax.Slice(g.PadW, g.Width) : rowMax[..g.Width];
        if (split)
        {
            rowMax[..g.PadW].Fill(T.NegativeInfinity);
            rowMax[(g.PadW + g.Width)..].Fill(T.NegativeInfinity);
        }
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            int h0 = oh * g.StrideH - g.PadH;
            bool any = false;
            for (int ki = 0; ki < g.KernelH; ki++)
            {
                int ih = h0 + ki * g.DilationH;
                if ((uint)ih >= (uint)g.Height) continue;
                var row = x.Slice(ih * g.Width, g.Width);
                if (any) System.Numerics.Tensors.TensorPrimitives.Max(max, row, max);
                else row.CopyTo(max);
                any = true;
            }
            var yRow = y.Slice(oh * g.OutWidth, g.OutWidth);
            if (!any)
            {
                yRow.Fill(T.NegativeInfinity);
                continue;
            }
            if (split)
            {
                // Window ow covers P[2·ow + kj]: E[ow + kj / 2] for even kj, O[ow + kj / 2] for odd.
                int half = phases.Length / 2;
                Span<T> even = phases[..half], odd = phases[half..];
                EvenOdd.Split<T>(rowMax, even, odd);
                even[..g.OutWidth].CopyTo(yRow);
                for (int kj = 1; kj < g.KernelW; kj++)
                    System.Numerics.Tensors.TensorPrimitives.Max(yRow, (kj % 2 == 0 ? even : odd).Slice(kj / 2, g.OutWidth), yRow);
                continue;
            }
            for (int ow = 0; ow < g.OutWidth; ow++)
            {
                int w0 = ow * g.StrideW - g.PadW;
                T best = T.NegativeInfinity;
                for (int kj = 0; kj < g.KernelW; kj++)
                {
                    int iw = w0 + kj * g.DilationW;
                    if ((uint)iw < (uint)max.Length) best = T.Max(best, max[iw]);
                }
                yRow[ow] = best;
            }
        }
    }

    /// <summary>For tests: on the calling thread, turns the vector path of <see cref="MaxPool2dBlocked"/> off (false).</summary>
    internal static bool? ForcedBlockedVectors
    {
        get => _forcedBlockedVectors;
        set => _forcedBlockedVectors = value;
    }

    [ThreadStatic]
    private static bool? _forcedBlockedVectors;

    /// <summary>
    /// Max pooling on blocked channels: g.Planes planes [Height][Width][block] become [OutHeight][OutWidth][block].
    /// Each output pixel's block is the maximum of one block per tap: with a block of one SIMD vector (the inference
    /// plan's layout), a vector load and maximum per tap and no shuffles, where the NCHW kernel gathers every other
    /// column (ResNet18's 3×3/2 stem pool). Output rows are split over the threads. PyTorch's scan: the first maximum in
    /// window order wins and NaN wins, so the values of the indexed and 2×2 kernels (the NCHW kernel without indices
    /// takes IEEE's maximum, which differs only in giving +0 for a window whose first maximum is −0); a window wholly in
    /// the padding gives −∞.
    /// </summary>
    public static unsafe void MaxPool2dBlocked<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, int block, Memory<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool vectors = block == Vector512<T>.Count && Avx512F.IsSupported && (ForcedBlockedVectors ?? true);
        int rows = g.Planes * g.OutHeight, grain = Math.Max(1, ParallelWork / Math.Max(1, g.OutWidth * block * g.KernelH * g.KernelW));
        ParallelHelper.For(rows, grain, (Input: input, G: g, Block: block, Output: output, Vectors: vectors), static (s, first, end) =>
        {
            var g = s.G;
            fixed (T* xp = s.Input.Span, yp = s.Output.Span)
            {
                for (int row = first; row < end; row++)
                {
                    int p = row / g.OutHeight, oh = row % g.OutHeight;
                    T* x = xp + (nint)p * g.InPlane * s.Block;
                    T* y = yp + ((nint)p * g.OutPlane + (nint)oh * g.OutWidth) * s.Block;
                    if (s.Vectors) MaxBlockedRow<T, Vector512<T>>(x, y, g, oh, s.Block);
                    else MaxBlockedRow<T, T>(x, y, g, oh, s.Block);
                }
            }
        });
    }

    /// <summary>
    /// Average pooling on blocked channels: g.Planes planes [Height][Width][block] become [OutHeight][OutWidth][block],
    /// each output block the sum of its window's blocks in row-major order over the divisor (<see cref="AvgWindows"/>),
    /// so every lane is the NCHW kernel's sum and quotient (<see cref="Average{T}"/>): the same bits. With a block of
    /// one SIMD vector, one vector add per tap. Output rows are split over the threads.
    /// </summary>
    public static unsafe void AvgPool2dBlocked<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, int block, bool countIncludePad, Memory<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool vectors = block == Vector512<T>.Count && Avx512F.IsSupported && (ForcedBlockedVectors ?? true);
        int count = g.Planes * g.OutHeight, grain = Math.Max(1, ParallelWork / Math.Max(1, g.OutWidth * block * g.KernelH * g.KernelW));
        var job = (Input: input, G: g, Block: block, Output: output, Vectors: vectors, Rows: AvgRows(g), Columns: AvgColumns(g), Pad: countIncludePad);
        ParallelHelper.For(count, grain, job, static (s, first, end) =>
        {
            var g = s.G;
            int block = s.Block;
            fixed (T* xp = s.Input.Span, yp = s.Output.Span)
            {
                for (int row = first; row < end; row++)
                {
                    int p = row / g.OutHeight, oh = row % g.OutHeight;
                    var r = s.Rows[oh];
                    T* x = xp + (nint)p * g.InPlane * block;
                    T* y = yp + ((nint)p * g.OutPlane + (nint)oh * g.OutWidth) * block;
                    for (int ow = 0; ow < g.OutWidth; ow++, y += block)
                    {
                        var c = s.Columns[ow];
                        int divisor = s.Pad ? r.Padded * c.Padded : (r.End - r.Start) * (c.End - c.Start);
                        T d = T.CreateTruncating(divisor);
                        if (s.Vectors)
                        {
                            var sum = Vector512<T>.Zero;
                            for (int ih = r.Start; ih < r.End; ih++)
                                for (int iw = c.Start; iw < c.End; iw++) sum += Vector512.Load(x + ((nint)ih * g.Width + iw) * block);
                            (divisor == 0 ? Vector512<T>.Zero : sum / Vector512.Create(d)).Store(y);
                            continue;
                        }
                        for (int lane = 0; lane < block; lane++)
                        {
                            T sum = T.Zero;
                            for (int ih = r.Start; ih < r.End; ih++)
                                for (int iw = c.Start; iw < c.End; iw++) sum += x[((nint)ih * g.Width + iw) * block + lane];
                            y[lane] = divisor == 0 ? T.Zero : sum / d;
                        }
                    }
                }
            }
        });
    }

    /// <summary>Output row oh of one blocked plane; TVector is Vector512&lt;T&gt; (block = one vector) or T (any block, lane by lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxBlockedRow<T, TVector>(T* x, T* y, in Pool2dGeometry g, int oh, int block) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The window's rows and columns inside the input: taps [first, end) along each axis.
        int h0 = oh * g.StrideH - g.PadH;
        int kiFirst = FirstTap(h0, g.DilationH), kiEnd = EndTap(h0, g.DilationH, g.KernelH, g.Height);
        nint rowLength = (nint)g.Width * block;
        for (int ow = 0; ow < g.OutWidth; ow++, y += block)
        {
            int w0 = ow * g.StrideW - g.PadW;
            int kjFirst = FirstTap(w0, g.DilationW), kjEnd = EndTap(w0, g.DilationW, g.KernelW, g.Width);
            if (typeof(TVector) == typeof(Vector512<T>))
            {
                // vmaxps(v, best) is v > best ? v : best: the scan's rule, except that a NaN v is dropped; those are
                // flagged and put back at the end.
                Vector512<T> best = Vector512.Create(T.NegativeInfinity), nan = Vector512<T>.Zero;
                for (int ki = kiFirst; ki < kiEnd; ki++)
                {
                    T* r = x + (h0 + ki * g.DilationH) * rowLength + (nint)w0 * block;
                    for (int kj = kjFirst; kj < kjEnd; kj++)
                    {
                        var v = Vector512.Load(r + (nint)kj * g.DilationW * block);
                        best = typeof(T) == typeof(float)
                            ? Avx512F.Max(v.AsSingle(), best.AsSingle()).As<float, T>()
                            : Avx512F.Max(v.AsDouble(), best.AsDouble()).As<double, T>();
                        nan |= ~Vector512.Equals(v, v);
                    }
                }
                Vector512.ConditionalSelect(nan, Vector512.Create(T.NaN), best).Store(y);
                continue;
            }
            for (int c = 0; c < block; c++)
            {
                T best = T.NegativeInfinity;
                for (int ki = kiFirst; ki < kiEnd; ki++)
                {
                    T* r = x + (h0 + ki * g.DilationH) * rowLength + (nint)w0 * block + c;
                    for (int kj = kjFirst; kj < kjEnd; kj++)
                    {
                        T v = r[(nint)kj * g.DilationW * block];
                        if (v > best || T.IsNaN(v)) best = v;
                    }
                }
                y[c] = best;
            }
        }
    }

    /// <summary>The first tap k with start + k·dilation ≥ 0.</summary>
    private static int FirstTap(int start, int dilation) => start >= 0 ? 0 : (-start + dilation - 1) / dilation;

    /// <summary>One past the last tap k &lt; kernel with start + k·dilation &lt; size.</summary>
    private static int EndTap(int start, int dilation, int kernel, int size) =>
        start >= size ? 0 : Math.Min(kernel, (size - 1 - start) / dilation + 1);

    /// <summary>gradInput = scatter-add of gradOutput to the recorded maxima. Overwrites gradInput.</summary>
    public static void MaxPool2dBackward<T>(ReadOnlyMemory<T> gradOutput, ReadOnlyMemory<int> indices, Pool2dGeometry g, Memory<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g, 1), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var dy = gradOutput.Span.Slice(p * g.OutPlane, g.OutPlane);
                var at = indices.Span.Slice(p * g.OutPlane, g.OutPlane);
                var dx = gradInput.Span.Slice(p * g.InPlane, g.InPlane);
                dx.Clear();
                for (int o = 0; o < dy.Length; o++)
                    if (at[o] >= 0) dx[at[o]] += dy[o];
            }
        });
    }

    /// <summary>output = mean over each window (see <see cref="AvgWindows"/> for the divisor).</summary>
    public static void AvgPool2dForward<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, bool countIncludePad, Memory<T> output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Average(input, g, AvgRows(g), AvgColumns(g), countIncludePad, Grain(g, g.KernelH * g.KernelW), output, backward: false);

    /// <summary>gradInput = each window's share of gradOutput (gradOutput / divisor added over the window). Overwrites gradInput.</summary>
    public static void AvgPool2dBackward<T>(ReadOnlyMemory<T> gradOutput, Pool2dGeometry g, bool countIncludePad, Memory<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Average(gradOutput, g, AvgRows(g), AvgColumns(g), countIncludePad, Grain(g, g.KernelH * g.KernelW), gradInput, backward: true);

    /// <summary>output[i, j] = mean of the input over rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1 and likewise for columns.</summary>
    public static void AdaptiveAvgPool2dForward<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, Memory<T> output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Average(input, g, AdaptiveWindows(g.OutHeight, g.Height), AdaptiveWindows(g.OutWidth, g.Width), true, AdaptiveGrain(g), output, backward: false);

    /// <summary>gradInput = each adaptive window's share of gradOutput. Overwrites gradInput.</summary>
    public static void AdaptiveAvgPool2dBackward<T>(ReadOnlyMemory<T> gradOutput, Pool2dGeometry g, Memory<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Average(gradOutput, g, AdaptiveWindows(g.OutHeight, g.Height), AdaptiveWindows(g.OutWidth, g.Width), true, AdaptiveGrain(g), gradInput, backward: true);

    /// <summary>
    /// Average pooling over the given windows, planes in parallel: forward, each output is its window's sum over the
    /// divisor; backward, each window receives its output gradient over the divisor, added over the window (the
    /// gradient input is overwritten). The divisor counts the padding or not; a window with none gives 0.
    /// </summary>
    private static void Average<T>(ReadOnlyMemory<T> source, Pool2dGeometry g, Window[] rows, Window[] cols, bool countIncludePad, int grain,
        Memory<T> destination, bool backward) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int sourcePlane = backward ? g.OutPlane : g.InPlane, destinationPlane = backward ? g.InPlane : g.OutPlane;
        ParallelHelper.For(g.Planes, grain, (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var src = source.Span.Slice(p * sourcePlane, sourcePlane);
                var dst = destination.Span.Slice(p * destinationPlane, destinationPlane);
                if (backward) dst.Clear();
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    var r = rows[oh];
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        var c = cols[ow];
                        int o = oh * g.OutWidth + ow, divisor = countIncludePad ? r.Padded * c.Padded : (r.End - r.Start) * (c.End - c.Start);
                        if (backward)
                        {
                            if (divisor == 0) continue;
                            T share = src[o] / T.CreateTruncating(divisor);
                            for (int ih = r.Start; ih < r.End; ih++)
                                for (int iw = c.Start; iw < c.End; iw++) dst[ih * g.Width + iw] += share;
                        }
                        else
                        {
                            T sum = T.Zero;
                            for (int ih = r.Start; ih < r.End; ih++)
                                for (int iw = c.Start; iw < c.End; iw++) sum += src[ih * g.Width + iw];
                            dst[o] = divisor == 0 ? T.Zero : sum / T.CreateTruncating(divisor);
                        }
                    }
                }
            }
        });
    }

    /// <summary>One output index's window along an axis: the input range [Start, End) and the length the divisor counts with padding.</summary>
    private readonly record struct Window(int Start, int End, int Padded);

    private static Window[] AvgRows(in Pool2dGeometry g) => AvgWindows(g.OutHeight, g.KernelH, g.StrideH, g.PadH, g.Height);

    private static Window[] AvgColumns(in Pool2dGeometry g) => AvgWindows(g.OutWidth, g.KernelW, g.StrideW, g.PadW, g.Width);

    /// <summary>
    /// Per output index along one axis: the window clipped to the input [Start, End) and its length counting padding
    /// (but not the overhang past the padded input that ceil mode allows), as PyTorch divides.
    /// </summary>
    private static Window[] AvgWindows(int outSize, int kernel, int stride, int pad, int size)
    {
        var windows = new Window[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int start = o * stride - pad, end = Math.Min(start + kernel, size + pad);
            windows[o] = new(Math.Max(start, 0), Math.Min(end, size), end - start);
        }
        return windows;
    }

    // PyTorch's adaptive windows: start = ⌊o·size/out⌋, end = ⌈(o+1)·size/out⌉ (in integer arithmetic); no padding.
    private static Window[] AdaptiveWindows(int outSize, int size)
    {
        var windows = new Window[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int start = (int)((long)o * size / outSize), end = (int)(((long)(o + 1) * size + outSize - 1) / outSize);
            windows[o] = new(start, end, end - start);
        }
        return windows;
    }

    private static int AdaptiveGrain(in Pool2dGeometry g) => Grain(g, Math.Max(1, g.InPlane / Math.Max(1, g.OutPlane)));

    /// <summary>
    /// Whether a pooling is the common CNN case: 2×2 windows, stride 2, no padding or dilation, whole windows only.
    /// Such windows tile the input without overlap, which the fast paths below rely on.
    /// </summary>
    public static bool Is2x2(in Pool2dGeometry g) =>
        g.KernelH == 2 && g.KernelW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadH == 0 && g.PadW == 0
        && g.DilationH == 1 && g.DilationW == 1 && g.OutHeight == g.Height / 2 && g.OutWidth == g.Width / 2;

    /// <summary>
    /// Max pooling over 2×2 windows with stride 2 (<see cref="Is2x2"/>): output = the window's maximum, codes = where, as
    /// 2·row + column within the window (one byte instead of an int index). Same answers as the general kernel: the
    /// first maximum in row-major order wins, and NaN wins (the last NaN).
    /// </summary>
    public static unsafe void MaxPool2x2Forward<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, Memory<T> output, Memory<byte> codes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g, 4), (start, end) =>
        {
            fixed (T* x = input.Span, y = output.Span)
            fixed (byte* at = codes.Span)
                for (int p = start; p < end; p++)
                    Pool2x2Plane<T, MaxWindows>(x, y, at, g, p);
        });
    }

    /// <summary>gradInput = gradOutput placed at each 2×2 window's recorded maximum, zeros elsewhere (a row or column no window covers included). Overwrites gradInput.</summary>
    public static unsafe void MaxPool2x2Backward<T>(ReadOnlyMemory<T> gradOutput, ReadOnlyMemory<byte> codes, Pool2dGeometry g, Memory<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g, 4), (start, end) =>
        {
            var dx = gradInput.Span;
            fixed (T* dy = gradOutput.Span)
            fixed (byte* at = codes.Span)
                for (int p = start; p < end; p++)
                    Unpool2x2Plane<T, ScatterWindows>(dy, at, g, dx, p);
        });
    }

    /// <summary>Average pooling over 2×2 windows with stride 2 (<see cref="Is2x2"/>): ((x00 + x01) + x10) + x11, times 1/4, as the general kernel sums.</summary>
    public static unsafe void AvgPool2x2Forward<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, Memory<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g, 4), (start, end) =>
        {
            fixed (T* x = input.Span, y = output.Span)
                for (int p = start; p < end; p++)
                    Pool2x2Plane<T, AverageWindows>(x, y, null, g, p);
        });
    }

    /// <summary>gradInput = gradOutput / 4 over each 2×2 window, zeros where no window reaches. Overwrites gradInput.</summary>
    public static unsafe void AvgPool2x2Backward<T>(ReadOnlyMemory<T> gradOutput, Pool2dGeometry g, Memory<T> gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g, 4), (start, end) =>
        {
            var dx = gradInput.Span;
            fixed (T* dy = gradOutput.Span)
                for (int p = start; p < end; p++)
                    Unpool2x2Plane<T, SpreadWindows>(dy, null, g, dx, p);
        });
    }

    /// <summary>Plane p of a 2×2 forward: each row of windows from its two rows of input.</summary>
    private static unsafe void Pool2x2Plane<T, TWindows>(T* x, T* y, byte* codes, in Pool2dGeometry g, int p)
        where T : unmanaged, IFloatingPointIeee754<T> where TWindows : IWindows2x2
    {
        for (int oh = 0; oh < g.OutHeight; oh++)
        {
            T* top = x + p * g.InPlane + 2 * oh * g.Width;
            int o = (p * g.OutHeight + oh) * g.OutWidth;
            Row2x2<T, TWindows>(top, top + g.Width, y + o, codes + o, g.OutWidth);
        }
    }

    /// <summary>
    /// Plane p of a 2×2 backward: every window's four inputs from its gradient (and code), then zeros where no window
    /// reaches (the last column of an odd width, the last row of an odd height).
    /// </summary>
    private static unsafe void Unpool2x2Plane<T, TWindows>(T* dy, byte* codes, in Pool2dGeometry g, Span<T> gradInput, int p)
        where T : unmanaged, IFloatingPointIeee754<T> where TWindows : IWindows2x2
    {
        var plane = gradInput.Slice(p * g.InPlane, g.InPlane);
        fixed (T* dx = plane)
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                T* top = dx + 2 * oh * g.Width, bottom = top + g.Width;
                int o = (p * g.OutHeight + oh) * g.OutWidth;
                Row2x2<T, TWindows>(top, bottom, dy + o, codes + o, g.OutWidth);
                if (g.Width % 2 == 1) top[g.Width - 1] = bottom[g.Width - 1] = T.Zero;
            }
        plane[(2 * g.OutHeight * g.Width)..].Clear();
    }

    // The 2×2 paths work a row of windows at a time (two input rows, one output row). The AVX-512 path takes 16
    // windows per step, the last ones of a row with masked loads and stores (rows of LeNet's 14 windows are all
    // remainder); the scalar path serves every other type and CPU. Both give the same answers.

    private static bool VectorPath<T>() => typeof(T) == typeof(float) && Avx512BW.VL.IsSupported;

    /// <summary>
    /// What one 2×2 path does to a window: top and bottom point at its two rows of inputs (or their gradients), window
    /// at its output (or the output's gradient), code at its max-pool position (for average pooling, an offset from
    /// null, never read).
    /// </summary>
    private unsafe interface IWindows2x2
    {
        /// <summary><paramref name="count"/> (1 to <see cref="Window2x2.Lanes"/>) consecutive float windows with AVX-512.</summary>
        static abstract void Vector(float* top, float* bottom, float* window, byte* code, int count);

        static abstract void Scalar<T>(T* top, T* bottom, T* window, byte* code) where T : unmanaged, IFloatingPointIeee754<T>;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Row2x2<T, TWindows>(T* top, T* bottom, T* windows, byte* codes, int count)
        where T : unmanaged, IFloatingPointIeee754<T> where TWindows : IWindows2x2
    {
        if (VectorPath<T>())
        {
            for (int ow = 0; ow < count; ow += Window2x2.Lanes)
                TWindows.Vector((float*)top + 2 * ow, (float*)bottom + 2 * ow, (float*)windows + ow, codes + ow, Math.Min(Window2x2.Lanes, count - ow));
            return;
        }
        for (int ow = 0; ow < count; ow++) TWindows.Scalar(top + 2 * ow, bottom + 2 * ow, windows + ow, codes + ow);
    }

    /// <summary>The window's maximum and its position: a later input replaces the best when greater or NaN.</summary>
    private readonly unsafe struct MaxWindows : IWindows2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(float* top, float* bottom, float* window, byte* code, int count) => Window2x2.Max(top, bottom, window, code, count);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar<T>(T* top, T* bottom, T* window, byte* code) where T : unmanaged, IFloatingPointIeee754<T>
        {
            T best = top[0];
            byte at = 0;
            T v = top[1];
            if (v > best || T.IsNaN(v)) { best = v; at = 1; }
            v = bottom[0];
            if (v > best || T.IsNaN(v)) { best = v; at = 2; }
            v = bottom[1];
            if (v > best || T.IsNaN(v)) { best = v; at = 3; }
            *window = best;
            *code = at;
        }
    }

    /// <summary>The window's gradient to the position its code names, zeros to the other three.</summary>
    private readonly unsafe struct ScatterWindows : IWindows2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(float* top, float* bottom, float* window, byte* code, int count) => Window2x2.Scatter(window, code, top, bottom, count);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar<T>(T* top, T* bottom, T* window, byte* code) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int at = *code;
            top[0] = at == 0 ? *window : T.Zero;
            top[1] = at == 1 ? *window : T.Zero;
            bottom[0] = at == 2 ? *window : T.Zero;
            bottom[1] = at == 3 ? *window : T.Zero;
        }
    }

    /// <summary>((x00 + x01) + x10) + x11, times 1/4.</summary>
    private readonly unsafe struct AverageWindows : IWindows2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(float* top, float* bottom, float* window, byte* code, int count) => Window2x2.Average(top, bottom, window, count);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar<T>(T* top, T* bottom, T* window, byte* code) where T : unmanaged, IFloatingPointIeee754<T> =>
            *window = (top[0] + top[1] + bottom[0] + bottom[1]) * (T.One / T.CreateTruncating(4));
    }

    /// <summary>A quarter of the window's gradient to each of its four inputs.</summary>
    private readonly unsafe struct SpreadWindows : IWindows2x2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Vector(float* top, float* bottom, float* window, byte* code, int count) => Window2x2.Spread(window, top, bottom, count);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scalar<T>(T* top, T* bottom, T* window, byte* code) where T : unmanaged, IFloatingPointIeee754<T> =>
            top[0] = top[1] = bottom[0] = bottom[1] = *window * (T.One / T.CreateTruncating(4));
    }

    /// <summary>
    /// Up to 16 float windows of 2×2 at a time with AVX-512 (<c>count</c> of them: the rest of each vector is masked off,
    /// neither read nor written). Even and odd columns of a pair of rows are de-interleaved with two-source permutes
    /// (vpermt2ps), and interleaved back the same way for the gradients.
    /// </summary>
    private static unsafe class Window2x2
    {
        public const int Lanes = 16;

        private static readonly Vector512<int> Iota = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        private static readonly Vector512<int> Even = Iota + Iota;
        private static readonly Vector512<int> Odd = Even + Vector512<int>.One;
        private static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        private static readonly Vector512<int> InterleaveHigh = InterleaveLow + Vector512.Create(8);
        private static readonly Vector512<int> DoubleLow = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        private static readonly Vector512<int> DoubleHigh = DoubleLow + Vector512.Create(8);
        private static readonly Vector128<byte> ByteIota = Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> First(int lanes) => Vector512.LessThan(Iota, Vector512.Create(lanes)).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Load(float* p, int lanes) =>
            lanes >= Lanes ? Vector512.Load(p) : Avx512F.MaskLoad(p, First(lanes), Vector512<float>.Zero);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(float* p, Vector512<float> v, int lanes)
        {
            if (lanes >= Lanes) v.Store(p);
            else if (lanes > 0) Avx512F.MaskStore(p, First(lanes), v);
        }

        /// <summary>The scalar scan with masks: a later element replaces the best when greater or NaN.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Max(float* top, float* bottom, float* y, byte* code, int count)
        {
            int low = Math.Min(2 * count, Lanes), high = 2 * count - low;
            var t0 = Load(top, low);
            var t1 = Load(top + Lanes, high);
            var b0 = Load(bottom, low);
            var b1 = Load(bottom + Lanes, high);
            var best = Avx512F.PermuteVar16x32x2(t0, Even, t1);
            var at = Vector512<int>.Zero;
            Take(ref best, ref at, Avx512F.PermuteVar16x32x2(t0, Odd, t1), 1);
            Take(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, Even, b1), 2);
            Take(ref best, ref at, Avx512F.PermuteVar16x32x2(b0, Odd, b1), 3);
            Store(y, best, count);
            var codes = Avx512F.ConvertToVector128Byte(at);
            if (count == Lanes) codes.Store(code);
            else Avx512BW.VL.MaskStore(code, Vector128.LessThan(ByteIota, Vector128.Create((byte)count)), codes);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Take(ref Vector512<float> best, ref Vector512<int> at, Vector512<float> v, int position)
        {
            var take = Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v);
            best = Vector512.ConditionalSelect(take, v, best);
            at = Vector512.ConditionalSelect(take.AsInt32(), Vector512.Create(position), at);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Scatter(float* dy, byte* code, float* top, float* bottom, int count)
        {
            var g = Load(dy, count);
            var codes = count == Lanes
                ? Vector128.Load(code)
                : Avx512BW.VL.MaskLoad(code, Vector128.LessThan(ByteIota, Vector128.Create((byte)count)), Vector128<byte>.Zero);
            var at = Avx512F.ConvertToVector512Int32(codes);
            var g0 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512<int>.Zero).AsSingle(), g, Vector512<float>.Zero);
            var g1 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512<int>.One).AsSingle(), g, Vector512<float>.Zero);
            var g2 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512.Create(2)).AsSingle(), g, Vector512<float>.Zero);
            var g3 = Vector512.ConditionalSelect(Vector512.Equals(at, Vector512.Create(3)).AsSingle(), g, Vector512<float>.Zero);
            int low = Math.Min(2 * count, Lanes), high = 2 * count - low;
            Store(top, Avx512F.PermuteVar16x32x2(g0, InterleaveLow, g1), low);
            Store(top + Lanes, Avx512F.PermuteVar16x32x2(g0, InterleaveHigh, g1), high);
            Store(bottom, Avx512F.PermuteVar16x32x2(g2, InterleaveLow, g3), low);
            Store(bottom + Lanes, Avx512F.PermuteVar16x32x2(g2, InterleaveHigh, g3), high);
        }

        /// <summary>((x00 + x01) + x10) + x11, times 1/4: the scalar order, so both paths agree to the bit.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Average(float* top, float* bottom, float* y, int count)
        {
            int low = Math.Min(2 * count, Lanes), high = 2 * count - low;
            var t0 = Load(top, low);
            var t1 = Load(top + Lanes, high);
            var b0 = Load(bottom, low);
            var b1 = Load(bottom + Lanes, high);
            var sum = Avx512F.PermuteVar16x32x2(t0, Even, t1) + Avx512F.PermuteVar16x32x2(t0, Odd, t1);
            sum = sum + Avx512F.PermuteVar16x32x2(b0, Even, b1) + Avx512F.PermuteVar16x32x2(b0, Odd, b1);
            Store(y, sum * 0.25f, count);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Spread(float* dy, float* top, float* bottom, int count)
        {
            var share = Load(dy, count) * 0.25f;
            int low = Math.Min(2 * count, Lanes), high = 2 * count - low;
            var shares0 = Avx512F.PermuteVar16x32(share, DoubleLow);
            var shares1 = Avx512F.PermuteVar16x32(share, DoubleHigh);
            Store(top, shares0, low);
            Store(top + Lanes, shares1, high);
            Store(bottom, shares0, low);
            Store(bottom + Lanes, shares1, high);
        }
    }

    private static int Grain(in Pool2dGeometry g, int readsPerOutput) => Math.Max(1, ParallelWork / Math.Max(1, g.OutPlane * readsPerOutput));
}
