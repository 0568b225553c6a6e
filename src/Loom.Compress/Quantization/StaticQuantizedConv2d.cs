namespace Loom.Compress;

/// <summary>
/// A 2-D convolution with int8 weights and statically quantised activations, run by <see cref="Int8Conv2d"/> (im2col
/// over the int8 GEMM, requantisation fused into its epilogue). See <see cref="StaticQuantizedLayer"/> for the state.
/// </summary>
public sealed class StaticQuantizedConv2d : StaticQuantizedLayer
{
    /// <summary>An all-zero layer of the given shape, to load a static int8 checkpoint into.</summary>
    public StaticQuantizedConv2d(int inChannels, int outChannels, (int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, bool bias, bool requantize)
        : base(new Shape(outChannels, inChannels, kernelSize.H, kernelSize.W), bias, requantize)
    {
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation) = (inChannels, outChannels, kernelSize, stride, padding, dilation);
    }

    /// <summary>The int8 form of a float <paramref name="conv"/> (groups 1, padding in elements) with calibrated input parameters.</summary>
    public static StaticQuantizedConv2d FromConv2d(Conv2d conv, QuantParams input, QuantParams? output)
    {
        ArgumentNullException.ThrowIfNull(conv);
        var q = Like(conv, output is not null);
        q.QuantizeWeights(conv.Weight, conv.Bias);
        q.InputParams = input;
        if (output is QuantParams o) q.OutputParams = o;
        return q;
    }

    /// <summary>An empty int8 layer of <paramref name="conv"/>'s shape; refuses what <see cref="Int8Conv2d"/> cannot run.</summary>
    public static StaticQuantizedConv2d Like(Conv2d conv, bool requantize)
    {
        if (conv.Groups != 1 || conv.PaddingMode is not null)
            throw new NotSupportedException("static int8: grouped convolutions and named padding modes are not supported");
        return new StaticQuantizedConv2d(conv.InChannels, conv.OutChannels, conv.KernelSize, conv.Stride, conv.Padding, conv.Dilation, conv.Bias is not null, requantize);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int H, int W) KernelSize { get; }
    public (int H, int W) Stride { get; }
    public (int H, int W) Padding { get; }
    public (int H, int W) Dilation { get; }

    /// <remarks>
    /// Works channels-last (<see cref="Int8Conv2d"/>): the input is read as [N, H, W, C] (a channels-last view, which
    /// the previous int8 layer returns, costs no copy; an NCHW tensor is transposed once), and a requantised output
    /// is returned as an [N, C, H, W] view of an [N, H, W, C] buffer, so its shape means what a float convolution's
    /// does and anything that needs NCHW order (a Flatten) gets it through <see cref="Tensor.Contiguous"/>.
    /// </remarks>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != InChannels)
            throw new ArgumentException($"{nameof(StaticQuantizedConv2d)}: input {input.Shape} must be [N, {InChannels}, H, W]");
        int n = input.Shape[0];
        var g = new Int8ConvGeometry(InChannels, input.Shape[2], input.Shape[3], KernelSize.H, KernelSize.W,
            Stride.H, Stride.W, Padding.H, Padding.W, Dilation.H, Dilation.W);
        var packed = State.Packed();
        int image = InChannels * g.Height * g.Width;
        var (x, qp) = QuantizedInput(input.Permute(0, 2, 3, 1), image, image);
        try
        {
            if (Requantizes)
            {
                var y = Tensor.Empty(new Shape(n, g.OutHeight, g.OutWidth, OutChannels), DType.UInt8);
                Int8Conv2d.ForwardRequantize(n, x, g, qp, packed, State.Scales, State.Bias, OutputParams, y.AsSpan<byte>());
                return y.Permute(0, 3, 1, 2);
            }
            var f = Tensor.Empty(new Shape(n, OutChannels, g.OutHeight, g.OutWidth));
            Int8Conv2d.ForwardDequantize(n, x, g, qp, packed, State.Scales, State.Bias, f.AsSpan<float>());
            return f;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(x);
        }
    }

    protected override string ExtraRepr() =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dtype=int8, activations=static" +
        (Requantizes ? ", output=u8" : ", output=float32");
}
