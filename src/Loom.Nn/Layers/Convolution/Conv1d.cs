using Loom.Random;

namespace Loom.Nn;

/// <summary>1-D convolution, as <c>torch.nn.Conv1d</c>: weight [out, in/groups, k], PyTorch's default initialisation.</summary>
/// <remarks>Shapes: [N, in, L] → [N, out, OL], OL = ⌊(L + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.</remarks>
public sealed class Conv1d : Module<Tensor, Tensor>
{
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true,
        DType dtype = DType.Float32, Generator? generator = null)
    {
        ConvolutionParameters.CheckChannels(nameof(Conv1d), inChannels, outChannels, groups);
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        var (weight, biasParameter) = ConvolutionParameters.Uniform(new Shape(outChannels, inChannels / groups, kernelSize), outChannels, bias, dtype, generator);
        Weight = RegisterParameter("weight", weight)!;
        Bias = RegisterParameter("bias", biasParameter);
    }

    /// <summary>A stride-1 convolution with padding named by its effect ('same' keeps the length, 'valid' pads nothing).</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, ConvPadding padding, int dilation = 1, int groups = 1, bool bias = true,
        DType dtype = DType.Float32, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, 1, 0, dilation, groups, bias, dtype, generator) => PaddingMode = padding;

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }

    /// <summary>Padding named by its effect, or null when <see cref="Padding"/> gives it in elements.</summary>
    public ConvPadding? PaddingMode { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    protected override Tensor ForwardCore(Tensor input) => PaddingMode is ConvPadding mode
        ? Functional.Conv1d(input, Weight, Bias, mode, Dilation, Groups)
        : Functional.Conv1d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    protected override string ExtraRepr() =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={PaddingMode?.ToString().ToLowerInvariant() ?? Padding.ToString()}";
}
