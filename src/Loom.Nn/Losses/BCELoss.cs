namespace Loom.Nn;

/// <summary>
/// Binary cross-entropy −w(y log x + (1 − y) log(1 − x)) of probabilities, as <c>torch.nn.BCELoss</c>; logs are
/// clamped at −100. Prefer <see cref="BCEWithLogitsLoss"/> on logits: it is exact where σ saturates.
/// </summary>
/// <remarks>
/// Shapes: input (probabilities in [0, 1]) and target [*], the same; output [] or, with <see cref="Reduction.None"/>,
/// [*]. The optional rescaling weight broadcasts to the input's shape and is a buffer named <c>weight</c>.
/// </remarks>
public sealed class BCELoss : Loss
{
    public BCELoss(Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        Weight = RegisterBuffer("weight", weight);
        Reduction = reduction;
    }

    public Tensor? Weight { get; }
    public Reduction Reduction { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.BinaryCrossEntropy(input, target, Weight, Reduction);

    protected override string ExtraRepr() => $"reduction={Repr(Reduction)}";
}
