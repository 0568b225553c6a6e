namespace Loom.Nn;

/// <summary>Depth to space: [*, C·r², H, W] → [*, C, H·r, W·r] (<c>torch.nn.PixelShuffle</c>).</summary>
public sealed class PixelShuffle(int upscaleFactor) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => Functional.PixelShuffle(input, upscaleFactor);

    protected override string ExtraRepr() => $"upscale_factor={upscaleFactor}";
}

/// <summary>Space to depth: [*, C, H·r, W·r] → [*, C·r², H, W] (<c>torch.nn.PixelUnshuffle</c>).</summary>
public sealed class PixelUnshuffle(int downscaleFactor) : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => Functional.PixelUnshuffle(input, downscaleFactor);

    protected override string ExtraRepr() => $"downscale_factor={downscaleFactor}";
}
