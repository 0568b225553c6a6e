namespace Loom.Nn;

/// <summary>x for y = 1, max(0, margin − x) for y = −1, as <c>torch.nn.HingeEmbeddingLoss</c> (x usually a distance).</summary>
/// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class HingeEmbeddingLoss(double margin = 1.0, Reduction reduction = Reduction.Mean) : Loss
{
    public double Margin { get; } = margin;
    public Reduction Reduction { get; } = reduction;

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.HingeEmbeddingLoss(input, target, Margin, Reduction);

    protected override string ExtraRepr() => $"margin={Margin}, reduction={Repr(Reduction)}";
}
