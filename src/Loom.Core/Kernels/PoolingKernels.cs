using System.Numerics;
using System.Runtime.CompilerServices;
using Loom.Threading;

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
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = AvgWindows(g.OutHeight, g.KernelH, g.StrideH, g.PadH, g.Height);
        var cols = AvgWindows(g.OutWidth, g.KernelW, g.StrideW, g.PadW, g.Width);
        ParallelHelper.For(g.Planes, Grain(g, g.KernelH * g.KernelW), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var x = input.Span.Slice(p * g.InPlane, g.InPlane);
                var y = output.Span.Slice(p * g.OutPlane, g.OutPlane);
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    var (h0, h1, hPadded) = rows[oh];
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        var (w0, w1, wPadded) = cols[ow];
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += x[ih * g.Width + iw];
                        int divisor = countIncludePad ? hPadded * wPadded : (h1 - h0) * (w1 - w0);
                        y[oh * g.OutWidth + ow] = divisor == 0 ? T.Zero : sum / T.CreateTruncating(divisor);
                    }
                }
            }
        });
    }

    /// <summary>gradInput = each window's share of gradOutput (gradOutput / divisor added over the window). Overwrites gradInput.</summary>
    public static void AvgPool2dBackward<T>(ReadOnlyMemory<T> gradOutput, Pool2dGeometry g, bool countIncludePad, Memory<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = AvgWindows(g.OutHeight, g.KernelH, g.StrideH, g.PadH, g.Height);
        var cols = AvgWindows(g.OutWidth, g.KernelW, g.StrideW, g.PadW, g.Width);
        ParallelHelper.For(g.Planes, Grain(g, g.KernelH * g.KernelW), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var dy = gradOutput.Span.Slice(p * g.OutPlane, g.OutPlane);
                var dx = gradInput.Span.Slice(p * g.InPlane, g.InPlane);
                dx.Clear();
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    var (h0, h1, hPadded) = rows[oh];
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        var (w0, w1, wPadded) = cols[ow];
                        int divisor = countIncludePad ? hPadded * wPadded : (h1 - h0) * (w1 - w0);
                        if (divisor == 0) continue;
                        T share = dy[oh * g.OutWidth + ow] / T.CreateTruncating(divisor);
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) dx[ih * g.Width + iw] += share;
                    }
                }
            }
        });
    }

    /// <summary>
    /// Per output index along one axis: the window clipped to the input [Start, End) and its length counting padding
    /// (but not the overhang past the padded input that ceil mode allows), as PyTorch divides.
    /// </summary>
    private static (int Start, int End, int Padded)[] AvgWindows(int outSize, int kernel, int stride, int pad, int size)
    {
        var windows = new (int, int, int)[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int start = o * stride - pad, end = Math.Min(start + kernel, size + pad);
            windows[o] = (Math.Max(start, 0), Math.Min(end, size), end - start);
        }
        return windows;
    }

    /// <summary>output[i, j] = mean of the input over rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1 and likewise for columns.</summary>
    public static void AdaptiveAvgPool2dForward<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, Memory<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = AdaptiveWindows(g.OutHeight, g.Height);
        var cols = AdaptiveWindows(g.OutWidth, g.Width);
        ParallelHelper.For(g.Planes, Grain(g, Math.Max(1, g.InPlane / Math.Max(1, g.OutPlane))), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var x = input.Span.Slice(p * g.InPlane, g.InPlane);
                var y = output.Span.Slice(p * g.OutPlane, g.OutPlane);
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    var (h0, h1) = rows[oh];
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        var (w0, w1) = cols[ow];
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += x[ih * g.Width + iw];
                        y[oh * g.OutWidth + ow] = sum / T.CreateTruncating((h1 - h0) * (w1 - w0));
                    }
                }
            }
        });
    }

    /// <summary>gradInput = each adaptive window's share of gradOutput. Overwrites gradInput.</summary>
    public static void AdaptiveAvgPool2dBackward<T>(ReadOnlyMemory<T> gradOutput, Pool2dGeometry g, Memory<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = AdaptiveWindows(g.OutHeight, g.Height);
        var cols = AdaptiveWindows(g.OutWidth, g.Width);
        ParallelHelper.For(g.Planes, Grain(g, Math.Max(1, g.InPlane / Math.Max(1, g.OutPlane))), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var dy = gradOutput.Span.Slice(p * g.OutPlane, g.OutPlane);
                var dx = gradInput.Span.Slice(p * g.InPlane, g.InPlane);
                dx.Clear();
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    var (h0, h1) = rows[oh];
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        var (w0, w1) = cols[ow];
                        T share = dy[oh * g.OutWidth + ow] / T.CreateTruncating((h1 - h0) * (w1 - w0));
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) dx[ih * g.Width + iw] += share;
                    }
                }
            }
        });
    }

    // PyTorch's adaptive windows: start = ⌊o·size/out⌋, end = ⌈(o+1)·size/out⌉ (in integer arithmetic).
    private static (int Start, int End)[] AdaptiveWindows(int outSize, int size)
    {
        var windows = new (int, int)[outSize];
        for (int o = 0; o < outSize; o++)
            windows[o] = ((int)((long)o * size / outSize), (int)(((long)(o + 1) * size + outSize - 1) / outSize));
        return windows;
    }

    private static int Grain(in Pool2dGeometry g, int readsPerOutput) => Math.Max(1, ParallelWork / Math.Max(1, g.OutPlane * readsPerOutput));
}
