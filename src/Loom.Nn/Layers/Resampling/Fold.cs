namespace Loom.Nn;

/// <summary>Sliding blocks as columns: [N, C, H, W] → [N, C·kh·kw, L] (<c>torch.nn.Unfold</c>).</summary>
public sealed class Unfold((int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null)
    : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => Functional.Unfold(input, kernelSize, dilation, padding, stride);

    protected override string ExtraRepr() => $"kernel_size={kernelSize}, dilation={dilation ?? (1, 1)}, padding={padding ?? (0, 0)}, stride={stride ?? (1, 1)}";
}

/// <summary>Columns summed back into an image: [N, C·kh·kw, L] → [N, C, H, W] (<c>torch.nn.Fold</c>).</summary>
public sealed class Fold((int H, int W) outputSize, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null,
    (int H, int W)? stride = null) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => Functional.Fold(input, outputSize, kernelSize, dilation, padding, stride);

    protected override string ExtraRepr() =>
        $"output_size={outputSize}, kernel_size={kernelSize}, dilation={dilation ?? (1, 1)}, padding={padding ?? (0, 0)}, stride={stride ?? (1, 1)}";
}
