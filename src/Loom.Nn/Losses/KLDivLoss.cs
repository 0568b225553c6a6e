namespace Loom.Nn;

/// <summary>
/// Kullback–Leibler divergence Σ y(log y − x) of log-probabilities x from a target distribution y, as
/// <c>torch.nn.KLDivLoss</c>. Use <see cref="KLDivReduction.BatchMean"/> for the KL divergence per sample (PyTorch's
/// default, <see cref="KLDivReduction.Mean"/>, divides by the element count). With <c>logTarget</c> the target holds
/// log-probabilities, ℓ = eʸ(y − x), which is stable for tiny probabilities (as in distillation).
/// </summary>
/// <remarks>Shapes: input and target [N, *], the same; output [] or, with <see cref="KLDivReduction.None"/>, [N, *].</remarks>
public sealed class KLDivLoss(KLDivReduction reduction = KLDivReduction.Mean, bool logTarget = false) : Loss
{
    public KLDivReduction Reduction { get; } = reduction;
    public bool LogTarget { get; } = logTarget;

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.KLDiv(input, target, Reduction, LogTarget);

    protected override string ExtraRepr() => $"reduction={Reduction.ToString().ToLowerInvariant()}, log_target={LogTarget}";
}
