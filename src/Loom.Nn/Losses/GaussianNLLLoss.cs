namespace Loom.Nn;

/// <summary>
/// Gaussian negative log-likelihood ½(log v + (x − y)²/v), as <c>torch.nn.GaussianNLLLoss</c>. Call
/// <see cref="Loss.Forward(Tensor, Tensor, Tensor)"/> with (input, target, variance).
/// </summary>
/// <remarks>Shapes: input and target [*], the same; variance [*] or [*] with the last dimension 1 or missing; output []
/// or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class GaussianNLLLoss(bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean) : Loss
{
    public bool Full { get; } = full;
    public double Eps { get; } = eps;
    public Reduction Reduction { get; } = reduction;

    protected override Tensor ForwardCore(Tensor input, Tensor target, Tensor variance) => Functional.GaussianNllLoss(input, target, variance, Full, Eps, Reduction);

    protected override string ExtraRepr() => $"full={Full}, eps={Eps}, reduction={Repr(Reduction)}";
}
