namespace Loom.Nn;

/// <summary>Mean squared error (x − y)², as <c>torch.nn.MSELoss</c>.</summary>
/// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class MSELoss(Reduction reduction = Reduction.Mean) : Loss
{
    public Reduction Reduction { get; } = reduction;

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.MseLoss(input, target, Reduction);

    protected override string ExtraRepr() => $"reduction={Repr(Reduction)}";
}
