namespace Loom.Nn;

/// <summary>
/// ½(x − y)²/β where |x − y| &lt; β, else |x − y| − ½β, as <c>torch.nn.SmoothL1Loss</c>: quadratic near zero,
/// linear (robust to outliers) beyond β. β = 0 gives the L1 loss.
/// </summary>
/// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class SmoothL1Loss : Loss
{
    public SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "SmoothL1Loss: beta must be ≥ 0");
        (Reduction, Beta) = (reduction, beta);
    }

    public Reduction Reduction { get; }
    public double Beta { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.SmoothL1Loss(input, target, Reduction, Beta);

    protected override string ExtraRepr() => $"reduction={Repr(Reduction)}, beta={Beta}";
}
