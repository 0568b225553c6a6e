namespace Loom.Kernels;

/// <summary>
/// Adaptive max pooling and max unpooling over planes (every leading dimension flattened), with in-plane flat
/// indices as PyTorch's return_indices gives them. Scalar loops, parallel over planes.
/// </summary>
internal static class MaxPoolIndexKernels
{
    private const int ParallelWork = 1 << 15;

    private static int Grain(int workPerPlane) => Math.Max(1, ParallelWork / Math.Max(1, workPerPlane));

    /// <summary>
    /// Window (i, j) covers rows [⌊i·H/OH⌋, ⌈(i + 1)·H/OH⌉) and the same for columns (PyTorch's adaptive windows);
    /// output = its maximum, indices = where (the first on ties; a later NaN replaces the running maximum, as PyTorch).
    /// </summary>
    public static void AdaptiveMaxPool2d<T>(ReadOnlyMemory<T> input, Pool2dGeometry g, Memory<T> output, Memory<int> indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelHelper.For(g.Planes, Grain(g.InPlane), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var x = input.Span.Slice(p * g.InPlane, g.InPlane);
                var y = output.Span.Slice(p * g.OutPlane, g.OutPlane);
                var at = indices.Span.Slice(p * g.OutPlane, g.OutPlane);
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    int h0 = oh * g.Height / g.OutHeight, h1 = ((oh + 1) * g.Height + g.OutHeight - 1) / g.OutHeight;
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        int w0 = ow * g.Width / g.OutWidth, w1 = ((ow + 1) * g.Width + g.OutWidth - 1) / g.OutWidth;
                        T best = T.NegativeInfinity;
                        int where = -1;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++)
                            {
                                T v = x[ih * g.Width + iw];
                                if (where < 0 || v > best || T.IsNaN(v)) (best, where) = (v, ih * g.Width + iw);
                            }
                        y[oh * g.OutWidth + ow] = best;
                        at[oh * g.OutWidth + ow] = where;
                    }
                }
            }
        });
    }

    /// <summary>output plane = zeros with output[indices[i]] = input[i] (OutPlane is the unpooled plane here).</summary>
    public static void MaxUnpool2d<T>(ReadOnlyMemory<T> input, ReadOnlyMemory<long> indices, int planes, int inPlane, int outPlane, Memory<T> output)
        where T : unmanaged => Unpool(input, indices, planes, inPlane, outPlane, output, scatter: true);

    /// <summary>gradInput[i] = gradOutput[indices[i]] within each plane.</summary>
    public static void MaxUnpool2dBackward<T>(ReadOnlyMemory<T> gradOutput, ReadOnlyMemory<long> indices, int planes, int inPlane, int outPlane, Memory<T> gradInput)
        where T : unmanaged => Unpool(gradOutput, indices, planes, inPlane, outPlane, gradInput, scatter: false);

    // Per plane, the pooled side has inPlane elements (as many as the indices) and the unpooled side outPlane: the
    // forward scatters pooled values into the zeroed unpooled plane, the backward (its transpose) gathers them back.
    private static void Unpool<T>(ReadOnlyMemory<T> source, ReadOnlyMemory<long> indices, int planes, int inPlane, int outPlane, Memory<T> destination, bool scatter)
        where T : unmanaged
    {
        ParallelHelper.For(planes, Grain(inPlane), (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                var at = indices.Span.Slice(p * inPlane, inPlane);
                if (scatter)
                {
                    var pooled = source.Span.Slice(p * inPlane, inPlane);
                    var unpooled = destination.Span.Slice(p * outPlane, outPlane);
                    unpooled.Clear();
                    for (int i = 0; i < inPlane; i++) unpooled[(int)at[i]] = pooled[i];
                }
                else
                {
                    var unpooled = source.Span.Slice(p * outPlane, outPlane);
                    var pooled = destination.Span.Slice(p * inPlane, inPlane);
                    for (int i = 0; i < inPlane; i++) pooled[i] = unpooled[(int)at[i]];
                }
            }
        });
    }
}
