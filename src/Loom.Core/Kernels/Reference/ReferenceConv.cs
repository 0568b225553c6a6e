namespace Loom.Kernels.Reference;

/// <summary>
/// Direct convolution by nested loops, straight from the definition, kept forever as the oracle the im2col + GEMM
/// kernels are tested against. Layouts are row-major: input [N, C, H, W], weight [OutC, C / groups, kH, kW].
/// </summary>
public static class ReferenceConv
{
    /// <summary>Output [N, OutC, OH, OW] of conv2d, with OH = ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1.</summary>
    public static int[] Conv2dOutputShape(int[] inputShape, int[] weightShape, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation) =>
    [
        inputShape[0], weightShape[0],
        (inputShape[2] + 2 * padding.H - dilation.H * (weightShape[2] - 1) - 1) / stride.H + 1,
        (inputShape[3] + 2 * padding.W - dilation.W * (weightShape[3] - 1) - 1) / stride.W + 1,
    ];

    /// <summary>y[n, o, i, j] = b[o] + Σ_{c, ki, kj} x[n, g·C/G + c, i·s − p + ki·d, j·s − p + kj·d] · w[o, c, ki, kj], zero outside the image.</summary>
    public static T[] Conv2d<T>(ReadOnlySpan<T> input, int[] inputShape, ReadOnlySpan<T> weight, int[] weightShape, ReadOnlySpan<T> bias,
        (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int oc = weightShape[0], cg = weightShape[1], kh = weightShape[2], kw = weightShape[3];
        var shape = Conv2dOutputShape(inputShape, weightShape, stride, padding, dilation);
        int oh = shape[2], ow = shape[3], ocg = oc / groups;
        var output = new T[n * oc * oh * ow];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < oc; o++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        T sum = bias.IsEmpty ? T.Zero : bias[o];
                        int group = o / ocg;
                        for (int ci = 0; ci < cg; ci++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++)
                                {
                                    int y = i * stride.H - padding.H + ki * dilation.H;
                                    int x = j * stride.W - padding.W + kj * dilation.W;
                                    if (y < 0 || y >= h || x < 0 || x >= w) continue;
                                    int channel = group * cg + ci;
                                    sum += input[((b * c + channel) * h + y) * w + x] * weight[((o * cg + ci) * kh + ki) * kw + kj];
                                }
                        output[((b * oc + o) * oh + i) * ow + j] = sum;
                    }
        return output;
    }

    /// <summary>Output [N, OutC, OH, OW] of conv_transpose2d, with OH = (H − 1)·s − 2p + d(k − 1) + outputPadding + 1.</summary>
    public static int[] ConvTranspose2dOutputShape(int[] inputShape, int[] weightShape, int groups, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) outputPadding, (int H, int W) dilation) =>
    [
        inputShape[0], weightShape[1] * groups,
        (inputShape[2] - 1) * stride.H - 2 * padding.H + dilation.H * (weightShape[2] - 1) + outputPadding.H + 1,
        (inputShape[3] - 1) * stride.W - 2 * padding.W + dilation.W * (weightShape[3] - 1) + outputPadding.W + 1,
    ];

    /// <summary>
    /// Transposed convolution by scattering: every input pixel x[n, c, i, j] adds x · w[c, o, ki, kj] to
    /// y[n, g·OutC/G + o, i·s − p + ki·d, j·s − p + kj·d] (dropped outside the output). Weight is [C, OutC / groups, kH, kW].
    /// </summary>
    public static T[] ConvTranspose2d<T>(ReadOnlySpan<T> input, int[] inputShape, ReadOnlySpan<T> weight, int[] weightShape, ReadOnlySpan<T> bias,
        (int H, int W) stride, (int H, int W) padding, (int H, int W) outputPadding, (int H, int W) dilation, int groups)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = inputShape[0], c = inputShape[1], h = inputShape[2], w = inputShape[3];
        int ocg = weightShape[1], kh = weightShape[2], kw = weightShape[3], cg = c / groups;
        var shape = ConvTranspose2dOutputShape(inputShape, weightShape, groups, stride, padding, outputPadding, dilation);
        int oc = shape[1], oh = shape[2], ow = shape[3];
        var output = new T[n * oc * oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int o = 0; o < oc; o++)
                for (int p = 0; p < oh * ow; p++)
                    output[(b * oc + o) * oh * ow + p] = bias.IsEmpty ? T.Zero : bias[o];
            for (int ci = 0; ci < c; ci++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                        for (int o = 0; o < ocg; o++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++)
                                {
                                    int y = i * stride.H - padding.H + ki * dilation.H;
                                    int x = j * stride.W - padding.W + kj * dilation.W;
                                    if (y < 0 || y >= oh || x < 0 || x >= ow) continue;
                                    int channel = ci / cg * ocg + o;
                                    output[((b * oc + channel) * oh + y) * ow + x] +=
                                        input[((b * c + ci) * h + i) * w + j] * weight[((ci * ocg + o) * kh + ki) * kw + kj];
                                }
        }
        return output;
    }
}
