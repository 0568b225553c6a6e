namespace Loom.Nn;

// Pooling layers that work with the positions of maxima: adaptive max pooling and max unpooling.

/// <summary>Max pooling to a fixed output size, whatever the input size. Shapes: [N, C, H, W] → [N, C, outH, outW].</summary>
public sealed class AdaptiveMaxPool2d((int H, int W) outputSize) : Module<Tensor, Tensor>
{
    public AdaptiveMaxPool2d(int outputSize) : this((outputSize, outputSize)) { }

    protected override Tensor ForwardCore(Tensor input) => Functional.AdaptiveMaxPool2d(input, outputSize);

    /// <summary>The pooled values and the Int64 in-plane index of each maximum (forward hooks do not run).</summary>
    public (Tensor Output, Tensor Indices) ForwardWithIndices(Tensor input) => Functional.AdaptiveMaxPool2dWithIndices(input, outputSize);

    protected override string ExtraRepr() => $"output_size={outputSize}";
}

/// <summary>
/// The inverse of <see cref="MaxPool2d"/>: each value goes back to where its maximum came from, zeros elsewhere (like
/// <c>torch.nn.MaxUnpool2d</c>). Call <c>Forward(input, indices)</c> with the indices from
/// <see cref="MaxPool2d.ForwardWithIndices"/>, optionally with the size to restore.
/// </summary>
/// <remarks>Shapes: input and indices [N, C, H, W] → [N, C, (H − 1)·stride − 2·padding + kernel, …] or the given size.</remarks>
public sealed class MaxUnpool2d(int kernelSize, int? stride = null, int padding = 0) : Module<(Tensor Input, Tensor Indices), Tensor>
{
    public Tensor Forward(Tensor input, Tensor indices) => Forward((input, indices));

    /// <summary>Unpools to <paramref name="outputSize"/> (H, W), for a pooled input whose size the default formula does not give back (forward hooks do not run).</summary>
    public Tensor Forward(Tensor input, Tensor indices, (int H, int W) outputSize) =>
        Functional.MaxUnpool2d(input, indices, kernelSize, stride, padding, outputSize);

    protected override Tensor ForwardCore((Tensor Input, Tensor Indices) x) => Functional.MaxUnpool2d(x.Input, x.Indices, kernelSize, stride, padding);

    protected override string ExtraRepr() => $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}";
}
