namespace Loom.Nn;

/// <summary>
/// 2-D transposed convolution, as <c>torch.nn.ConvTranspose2d</c>: weight [in, out/groups, kH, kW], uniform in ±1/√fan_in
/// with PyTorch's fan_in = out/groups·kH·kW (its fan computation reads dimension 1 of this weight).
/// </summary>
/// <remarks>Shapes: [N, in, H, W] → [N, out, OH, OW], OH = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1.</remarks>
public sealed class ConvTranspose2d : ConvNd<(int H, int W)>
{
    public ConvTranspose2d(int inChannels, int outChannels, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? outputPadding = null, (int H, int W)? dilation = null, int groups = 1, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
        : base(nameof(ConvTranspose2d), inChannels, outChannels, kernelSize, stride ?? (1, 1), padding ?? (0, 0), dilation ?? (1, 1), groups,
            () => new Shape(inChannels, outChannels / groups, kernelSize.H, kernelSize.W), bias, dtype, generator) =>
        OutputPadding = outputPadding ?? (0, 0);

    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int dilation = 1, int groups = 1,
        bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (outputPadding, outputPadding), (dilation, dilation), groups, bias, dtype, generator) { }

    public (int H, int W) OutputPadding { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Dilation, Groups);

    protected override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}";
}
