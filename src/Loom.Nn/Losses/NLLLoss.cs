namespace Loom.Nn;

/// <summary>
/// Negative log-likelihood −w_t·x_t of log-probabilities, as <c>torch.nn.NLLLoss</c>: a thin module over
/// <see cref="Functional.NllLoss"/>. Pair it with <see cref="LogSoftmax"/>, or use <see cref="CrossEntropyLoss"/>
/// on logits.
/// </summary>
/// <remarks>
/// Shapes: input [N, C] or [N, C, d1, …] (or [C]) of log-probabilities; target [N] or [N, d1, …] of Int64/Int32
/// class indices; output [] or, with <see cref="Reduction.None"/>, the target's shape. The class weight is a
/// buffer named <c>weight</c>.
/// </remarks>
public sealed class NLLLoss : Loss
{
    /// <param name="weight">Optional per-class weights [C].</param>
    /// <param name="ignoreIndex">A target equal to this contributes neither loss nor gradient.</param>
    public NLLLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        if (weight is not null && weight.Rank != 1)
            throw new ArgumentException($"NLLLoss: weight must have one value per class, got shape {weight.Shape}");
        Weight = RegisterBuffer("weight", weight);
        (IgnoreIndex, Reduction) = (ignoreIndex, reduction);
    }

    /// <summary>The per-class weights (a copy owned by this module), or null.</summary>
    public Tensor? Weight { get; }
    public long IgnoreIndex { get; }
    public Reduction Reduction { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.NllLoss(input, target, Weight, IgnoreIndex, Reduction);

    protected override string ExtraRepr() => $"ignore_index={IgnoreIndex}, reduction={Repr(Reduction)}{(Weight is null ? "" : $", weight: {Weight.Shape}")}";
}
