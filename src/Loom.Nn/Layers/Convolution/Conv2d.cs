namespace Loom.Nn;

/// <summary>
/// 2-D convolution, as <c>torch.nn.Conv2d</c>. Weight [out, in/groups, kH, kW] and bias [out] start uniform in
/// ±1/√fan_in with fan_in = in/groups·kH·kW (PyTorch's default).
/// </summary>
/// <remarks>Shapes: [N, in, H, W] → [N, out, OH, OW], OH = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1.</remarks>
public sealed class Conv2d : ConvNd<(int H, int W)>
{
    public Conv2d(int inChannels, int outChannels, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? dilation = null, int groups = 1, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
        : base(nameof(Conv2d), inChannels, outChannels, kernelSize, stride ?? (1, 1), padding ?? (0, 0), dilation ?? (1, 1), groups,
            () => new Shape(outChannels, inChannels / groups, kernelSize.H, kernelSize.W), bias, dtype, generator) { }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true,
        DType dtype = DType.Float32, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), groups, bias, dtype, generator) { }

    /// <summary>
    /// A stride-1 convolution with padding named by its effect: <see cref="ConvPadding.Same"/> keeps the input's size
    /// (PyTorch's padding='same'), <see cref="ConvPadding.Valid"/> pads nothing.
    /// </summary>
    public Conv2d(int inChannels, int outChannels, (int H, int W) kernelSize, ConvPadding padding, (int H, int W)? dilation = null, int groups = 1,
        bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, (1, 1), (0, 0), dilation, groups, bias, dtype, generator) => PaddingMode = padding;

    /// <summary>Padding named by its effect, or null when <see cref="ConvNd{TSize}.Padding"/> gives it in elements.</summary>
    public ConvPadding? PaddingMode { get; }

    protected override Tensor ForwardCore(Tensor input) => PaddingMode is ConvPadding mode
        ? Functional.Conv2d(input, Weight, Bias, mode, Dilation, Groups)
        : Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    protected override string ExtraRepr() =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}" +
        (PaddingMode is ConvPadding mode ? $", padding={mode.ToString().ToLowerInvariant()}" : Padding != (0, 0) ? $", padding={Padding}" : "") +
        (Dilation != (1, 1) ? $", dilation={Dilation}" : "") + (Groups != 1 ? $", groups={Groups}" : "") + (Bias is null ? ", bias=False" : "");
}
