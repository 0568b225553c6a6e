namespace Loom.Nn;

/// <summary>
/// Poisson negative log-likelihood, as <c>torch.nn.PoissonNLLLoss</c>: eˣ − y·x for a log rate x (the default), or
/// x − y·log(x + eps) for a rate; <c>full</c> adds Stirling's approximation of log(y!).
/// </summary>
/// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class PoissonNLLLoss(bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean) : Loss
{
    public bool LogInput { get; } = logInput;
    public bool Full { get; } = full;
    public double Eps { get; } = eps;
    public Reduction Reduction { get; } = reduction;

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.PoissonNllLoss(input, target, LogInput, Full, Eps, Reduction);

    protected override string ExtraRepr() => $"log_input={LogInput}, full={Full}, eps={Eps}, reduction={Repr(Reduction)}";
}
