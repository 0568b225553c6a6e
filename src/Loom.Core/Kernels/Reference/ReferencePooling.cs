namespace Loom.Kernels.Reference;

/// <summary>
/// Pooling by its definition over an explicitly padded window, kept forever as the oracle the pooling kernels are
/// tested against. Input [N, C, H, W] row-major; outputs [N, C, OH, OW].
/// </summary>
public static class ReferencePooling
{
    /// <summary>
    /// Number of windows along an axis: window o starts at o·s − p and spans d(k − 1) + 1. Without ceil mode every
    /// window must end inside the padded input; with it a window may run past the end but must start inside the
    /// input or the left padding (PyTorch's rule).
    /// </summary>
    public static int WindowCount(int size, int kernel, int stride, int padding, int dilation, bool ceilMode)
    {
        int lastFullStart = size + 2 * padding - dilation * (kernel - 1) - 1; // in padded coordinates
        int count = 0;
        for (int start = 0; ; start += stride)
        {
            bool fits = start <= lastFullStart;
            bool partial = ceilMode && start < lastFullStart + stride && start - padding < size;
            if (!fits && !partial) return count;
            count++;
        }
    }

    /// <summary>y = max over the window (positions in the padding are skipped; NaN wins, as in PyTorch).</summary>
    public static T[] MaxPool2d<T>(ReadOnlySpan<T> input, int[] shape, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, bool ceilMode, out int[] outputShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        int oh = WindowCount(h, kernel.H, stride.H, padding.H, dilation.H, ceilMode);
        int ow = WindowCount(w, kernel.W, stride.W, padding.W, dilation.W, ceilMode);
        outputShape = [n, c, oh, ow];
        var output = new T[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    T best = T.NegativeInfinity;
                    for (int ki = 0; ki < kernel.H; ki++)
                        for (int kj = 0; kj < kernel.W; kj++)
                        {
                            int y = i * stride.H - padding.H + ki * dilation.H, x = j * stride.W - padding.W + kj * dilation.W;
                            if (y < 0 || y >= h || x < 0 || x >= w) continue;
                            T v = input[(plane * h + y) * w + x];
                            if (T.IsNaN(v) || v > best) best = v;
                            if (T.IsNaN(best)) break;
                        }
                    output[(plane * oh + i) * ow + j] = best;
                }
        return output;
    }

    /// <summary>
    /// y = mean over the window. With <paramref name="countIncludePad"/> the divisor counts padding positions (but not
    /// positions past the padded input that ceil mode adds); without it, only positions inside the input.
    /// </summary>
    public static T[] AvgPool2d<T>(ReadOnlySpan<T> input, int[] shape, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding,
        bool countIncludePad, bool ceilMode, out int[] outputShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
        int oh = WindowCount(h, kernel.H, stride.H, padding.H, 1, ceilMode);
        int ow = WindowCount(w, kernel.W, stride.W, padding.W, 1, ceilMode);
        outputShape = [n, c, oh, ow];
        var output = new T[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    T sum = T.Zero;
                    int inside = 0, padded = 0;
                    for (int ki = 0; ki < kernel.H; ki++)
                        for (int kj = 0; kj < kernel.W; kj++)
                        {
                            int y = i * stride.H - padding.H + ki, x = j * stride.W - padding.W + kj;
                            if (y >= h + padding.H || x >= w + padding.W) continue;
                            padded++;
                            if (y < 0 || y >= h || x < 0 || x >= w) continue;
                            inside++;
                            sum += input[(plane * h + y) * w + x];
                        }
                    int divisor = countIncludePad ? padded : inside;
                    output[(plane * oh + i) * ow + j] = divisor == 0 ? T.Zero : sum / T.CreateChecked(divisor);
                }
        return output;
    }

    /// <summary>y[i, j] = mean of x over rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1 and the same for columns.</summary>
    public static T[] AdaptiveAvgPool2d<T>(ReadOnlySpan<T> input, int[] shape, (int H, int W) outputSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = shape[0], c = shape[1], h = shape[2], w = shape[3], oh = outputSize.H, ow = outputSize.W;
        var output = new T[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int y0 = (int)Math.Floor((double)i * h / oh), y1 = (int)Math.Ceiling((double)(i + 1) * h / oh);
                    int x0 = (int)Math.Floor((double)j * w / ow), x1 = (int)Math.Ceiling((double)(j + 1) * w / ow);
                    T sum = T.Zero;
                    for (int y = y0; y < y1; y++)
                        for (int x = x0; x < x1; x++) sum += input[(plane * h + y) * w + x];
                    output[(plane * oh + i) * ow + j] = sum / T.CreateChecked((y1 - y0) * (x1 - x0));
                }
        return output;
    }
}
