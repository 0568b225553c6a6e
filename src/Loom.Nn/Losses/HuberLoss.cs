namespace Loom.Nn;

/// <summary>
/// ½(x − y)² where |x − y| &lt; δ, else δ(|x − y| − ½δ), as <c>torch.nn.HuberLoss</c>: δ times
/// <see cref="SmoothL1Loss"/> with β = δ, so its gradient is clamp(x − y, −δ, δ) whatever δ.
/// </summary>
/// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class HuberLoss : Loss
{
    public HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "HuberLoss: delta must be > 0");
        (Reduction, Delta) = (reduction, delta);
    }

    public Reduction Reduction { get; }
    public double Delta { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.HuberLoss(input, target, Reduction, Delta);

    protected override string ExtraRepr() => $"reduction={Repr(Reduction)}, delta={Delta}";
}
