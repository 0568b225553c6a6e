namespace Loom.Nn;

/// <summary>The two-class logistic loss log(1 + e^(−y·x)) for y = ±1, as <c>torch.nn.SoftMarginLoss</c>.</summary>
/// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class SoftMarginLoss(Reduction reduction = Reduction.Mean) : Loss
{
    public Reduction Reduction { get; } = reduction;

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.SoftMarginLoss(input, target, Reduction);

    protected override string ExtraRepr() => $"reduction={Repr(Reduction)}";
}
