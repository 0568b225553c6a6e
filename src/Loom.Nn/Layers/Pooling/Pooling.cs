namespace Loom.Nn;

// Pooling layers: parameter-free modules over Functional's pooling ops, with PyTorch's defaults (stride = kernel).

/// <summary>Max over kH×kW windows. Shapes: [N, C, H, W] → [N, C, OH, OW].</summary>
public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module<Tensor, Tensor>
{
    public int KernelSize => kernelSize;
    public int Stride => stride ?? kernelSize;
    public int Padding => padding;
    public int Dilation => dilation;
    public bool CeilMode => ceilMode;

    protected override Tensor ForwardCore(Tensor input) => Functional.MaxPool2d(input, kernelSize, stride, padding, dilation, ceilMode);

    /// <summary>The pooled values and the Int64 in-plane index of each maximum, for <see cref="MaxUnpool2d"/> (PyTorch's return_indices; forward hooks do not run).</summary>
    public (Tensor Output, Tensor Indices) ForwardWithIndices(Tensor input) =>
        Functional.MaxPool2dWithIndices(input, kernelSize, stride, padding, dilation, ceilMode);

    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}";
}

/// <summary>Max over windows of length k. Shapes: [N, C, L] → [N, C, OL].</summary>
public sealed class MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => Functional.MaxPool1d(input, kernelSize, stride, padding, dilation, ceilMode);

    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}";
}

/// <summary>Mean over kH×kW windows. Shapes: [N, C, H, W] → [N, C, OH, OW].</summary>
/// <remarks>With <c>divisorOverride</c> every window's sum is divided by it instead.</remarks>
public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true, bool ceilMode = false, int? divisorOverride = null)
    : Module<Tensor, Tensor>
{
    public int KernelSize => kernelSize;
    public int Stride => stride ?? kernelSize;
    public int Padding => padding;
    public bool CountIncludePad => countIncludePad;
    public bool CeilMode => ceilMode;
    public int? DivisorOverride => divisorOverride;

    protected override Tensor ForwardCore(Tensor input) => Functional.AvgPool2d(input, kernelSize, stride, padding, countIncludePad, ceilMode, divisorOverride);

    protected override string ExtraRepr() =>
        $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}" + (divisorOverride is int d ? $", divisor_override={d}" : "");
}

/// <summary>Mean over windows of length k. Shapes: [N, C, L] → [N, C, OL].</summary>
public sealed class AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true, bool ceilMode = false) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => Functional.AvgPool1d(input, kernelSize, stride, padding, countIncludePad, ceilMode);

    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}";
}

/// <summary>Mean pooling to a fixed output size, whatever the input size. Shapes: [N, C, H, W] → [N, C, outH, outW].</summary>
public sealed class AdaptiveAvgPool2d((int H, int W) outputSize) : Module<Tensor, Tensor>
{
    public AdaptiveAvgPool2d(int outputSize) : this((outputSize, outputSize)) { }

    public (int H, int W) OutputSize => outputSize;

    protected override Tensor ForwardCore(Tensor input) => Functional.AdaptiveAvgPool2d(input, outputSize);

    protected override string ExtraRepr() => $"output_size={outputSize}";
}
