namespace Loom.Nn;

/// <summary>
/// Sigmoid and binary cross-entropy fused in a numerically stable form, as <c>torch.nn.BCEWithLogitsLoss</c>:
/// ℓ = (1 − y)·x + (1 + (p − 1)·y)·(log(1 + e^−|x|) + max(−x, 0)), exact for logits of any size.
/// </summary>
/// <remarks>
/// Shapes: input (logits) and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].
/// <c>weight</c> (rescaling, broadcast to the input) and <c>pos_weight</c> (p, the weight of positive examples,
/// typically [C] for an [N, C] multi-label input) are buffers under PyTorch's names.
/// </remarks>
public sealed class BCEWithLogitsLoss : Loss
{
    public BCEWithLogitsLoss(Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        Weight = RegisterBuffer("weight", weight);
        PosWeight = RegisterBuffer("pos_weight", posWeight);
        Reduction = reduction;
    }

    public Tensor? Weight { get; }
    public Tensor? PosWeight { get; }
    public Reduction Reduction { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) =>
        Functional.BinaryCrossEntropyWithLogits(input, target, Weight, PosWeight, Reduction);

    protected override string ExtraRepr() => $"reduction={Repr(Reduction)}";
}
