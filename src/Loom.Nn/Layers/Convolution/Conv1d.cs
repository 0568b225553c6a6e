namespace Loom.Nn;

/// <summary>1-D convolution, as <c>torch.nn.Conv1d</c>: weight [out, in/groups, k], PyTorch's default initialisation.</summary>
/// <remarks>Shapes: [N, in, L] → [N, out, OL], OL = ⌊(L + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.</remarks>
public sealed class Conv1d : ConvNd<int>
{
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true,
        DType dtype = DType.Float32, Generator? generator = null)
        : base(nameof(Conv1d), inChannels, outChannels, kernelSize, stride, padding, dilation, groups,
            () => new Shape(outChannels, inChannels / groups, kernelSize), bias, dtype, generator) { }

    /// <summary>A stride-1 convolution with padding named by its effect ('same' keeps the length, 'valid' pads nothing).</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, ConvPadding padding, int dilation = 1, int groups = 1, bool bias = true,
        DType dtype = DType.Float32, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, 1, 0, dilation, groups, bias, dtype, generator) => PaddingMode = padding;

    /// <summary>Padding named by its effect, or null when <see cref="ConvNd{TSize}.Padding"/> gives it in elements.</summary>
    public ConvPadding? PaddingMode { get; }

    protected override Tensor ForwardCore(Tensor input) => PaddingMode is ConvPadding mode
        ? Functional.Conv1d(input, Weight, Bias, mode, Dilation, Groups)
        : Functional.Conv1d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    protected override string ExtraRepr() =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={PaddingMode?.ToString().ToLowerInvariant() ?? Padding.ToString()}";
}
