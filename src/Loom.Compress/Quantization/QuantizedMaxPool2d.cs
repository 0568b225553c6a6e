namespace Loom.Compress;

/// <summary>
/// Max pooling that passes quantised u8 activations through without dequantising: quantisation is monotonic, so the
/// maximum of the quantised values is the quantised maximum (same scale and zero point). Float input goes to the
/// float kernel. Padding reads as 0, the least u8 value, so it never wins against a real position. A channels-last
/// input (what <see cref="StaticQuantizedConv2d"/> returns) is pooled channels-last, a whole pixel's channels per
/// vector operation, and returned channels-last, so the next int8 convolution reads it without a copy.
/// </summary>
public sealed class QuantizedMaxPool2d(int kernelSize, int stride, int padding) : Module<Tensor, Tensor>
{
    public int KernelSize => kernelSize;
    public int Stride => stride;
    public int Padding => padding;

    /// <summary>The u8-capable form of <paramref name="pool"/>; dilation and ceil mode are refused.</summary>
    public static QuantizedMaxPool2d FromMaxPool2d(MaxPool2d pool)
    {
        if (pool.Dilation != 1 || pool.CeilMode) throw new NotSupportedException("static int8: max pooling with dilation or ceil mode is not supported");
        return new QuantizedMaxPool2d(pool.KernelSize, pool.Stride, pool.Padding);
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.DType != DType.UInt8) return Functional.MaxPool2d(input, kernelSize, stride, padding);
        if (input.Rank != 4) throw new ArgumentException($"{nameof(QuantizedMaxPool2d)}: input {input.Shape} must be [N, C, H, W]");
        int planes = input.Shape[0] * input.Shape[1], h = input.Shape[2], w = input.Shape[3];
        int oh = (h + 2 * padding - kernelSize) / stride + 1, ow = (w + 2 * padding - kernelSize) / stride + 1;
        if (oh <= 0 || ow <= 0) throw new ArgumentException($"{nameof(QuantizedMaxPool2d)}: a {kernelSize}×{kernelSize} window does not fit {h}×{w}");
        var channelsLast = input.Permute(0, 2, 3, 1);
        if (channelsLast.IsContiguous) return PoolChannelsLast(channelsLast, oh, ow);
        var x = input.Contiguous().AsReadOnlySpan<byte>();
        var output = Tensor.Empty(new Shape(input.Shape[0], input.Shape[1], oh, ow), DType.UInt8);
        var y = output.AsSpan<byte>();
        for (int p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * h * w, h * w);
            var dst = y.Slice(p * oh * ow, oh * ow);
            for (int oy = 0; oy < oh; oy++)
            {
                int y0 = Math.Max(0, oy * stride - padding), y1 = Math.Min(h, oy * stride - padding + kernelSize);
                for (int ox = 0; ox < ow; ox++)
                {
                    int x0 = Math.Max(0, ox * stride - padding), x1 = Math.Min(w, ox * stride - padding + kernelSize);
                    byte max = 0;
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++) max = Math.Max(max, plane[iy * w + ix]);
                    dst[oy * ow + ox] = max;
                }
            }
        }
        return output;
    }

    private Tensor PoolChannelsLast(Tensor input, int oh, int ow)
    {
        int n = input.Shape[0], h = input.Shape[1], w = input.Shape[2], c = input.Shape[3];
        var x = input.AsReadOnlySpan<byte>();
        var output = Tensor.Empty(new Shape(n, oh, ow, c), DType.UInt8);
        var y = output.AsSpan<byte>();
        for (int i = 0; i < n; i++)
        {
            var image = x.Slice(i * h * w * c, h * w * c);
            for (int oy = 0; oy < oh; oy++)
            {
                int y0 = Math.Max(0, oy * stride - padding), y1 = Math.Min(h, oy * stride - padding + kernelSize);
                for (int ox = 0; ox < ow; ox++)
                {
                    int x0 = Math.Max(0, ox * stride - padding), x1 = Math.Min(w, ox * stride - padding + kernelSize);
                    var dst = y.Slice(((i * oh + oy) * ow + ox) * c, c);
                    dst.Clear();
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++) TensorPrimitives.Max(dst, image.Slice((iy * w + ix) * c, c), dst);
                }
            }
        }
        return output.Permute(0, 3, 1, 2);
    }

    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride}, padding={padding}, u8 pass-through";
}
