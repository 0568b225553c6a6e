namespace Loom.Nn;

/// <summary>
/// Log-softmax and negative log-likelihood fused, as <c>torch.nn.CrossEntropyLoss</c>: a thin module over
/// <see cref="Functional.CrossEntropy"/>. Targets are class indices or class probabilities.
/// </summary>
/// <remarks>
/// Shapes: input [N, C] or [N, C, d1, …] (or [C]); target [N] or [N, d1, …] of Int64/Int32 indices, or
/// probabilities of the input's shape; output [] or, with <see cref="Reduction.None"/>, the target's shape.
/// The class weight is a buffer named <c>weight</c>, as in PyTorch's state dict.
/// </remarks>
public sealed class CrossEntropyLoss : Loss
{
    /// <param name="weight">Optional per-class weights [C].</param>
    /// <param name="ignoreIndex">A class-index target equal to this contributes neither loss nor gradient.</param>
    /// <param name="labelSmoothing">ε in [0, 1]: the target becomes (1 − ε) target + ε / C.</param>
    public CrossEntropyLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
    {
        if (weight is not null && weight.Rank != 1)
            throw new ArgumentException($"CrossEntropyLoss: weight must have one value per class, got shape {weight.Shape}");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "CrossEntropyLoss: label smoothing must be in [0, 1]");
        Weight = RegisterBuffer("weight", weight);
        (IgnoreIndex, Reduction, LabelSmoothing) = (ignoreIndex, reduction, labelSmoothing);
    }

    /// <summary>The per-class weights (a copy owned by this module), or null.</summary>
    public Tensor? Weight { get; }
    public long IgnoreIndex { get; }
    public Reduction Reduction { get; }
    public double LabelSmoothing { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) =>
        Functional.CrossEntropy(input, target, Weight, IgnoreIndex, LabelSmoothing, Reduction);

    protected override string ExtraRepr() =>
        $"ignore_index={IgnoreIndex}, reduction={Repr(Reduction)}, label_smoothing={LabelSmoothing}{(Weight is null ? "" : $", weight: {Weight.Shape}")}";
}
