namespace Loom.Nn;

/// <summary>Mean absolute error |x − y|, as <c>torch.nn.L1Loss</c>.</summary>
/// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class L1Loss(Reduction reduction = Reduction.Mean) : Loss
{
    public Reduction Reduction { get; } = reduction;

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.L1Loss(input, target, Reduction);

    protected override string ExtraRepr() => $"reduction={Repr(Reduction)}";
}
