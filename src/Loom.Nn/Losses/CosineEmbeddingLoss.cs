namespace Loom.Nn;

/// <summary>
/// Whether two embeddings are similar (y = 1: 1 − cos) or dissimilar (y = −1: max(0, cos − margin)), as
/// <c>torch.nn.CosineEmbeddingLoss</c>. Call <see cref="Loss.Forward(Tensor, Tensor, Tensor)"/> with (input1, input2, target).
/// </summary>
/// <remarks>Shapes: input1 and input2 [N, D] with target [N] of ±1, or [D] with a scalar target; output [] or, with
/// <see cref="Reduction.None"/>, [N].</remarks>
public sealed class CosineEmbeddingLoss : Loss
{
    /// <param name="margin">Cosine below which dissimilar pairs cost nothing; in [−1, 1], 0 to 0.5 suggested.</param>
    public CosineEmbeddingLoss(double margin = 0, Reduction reduction = Reduction.Mean)
    {
        if (!(margin >= -1 && margin <= 1)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "CosineEmbeddingLoss: margin must be in [-1, 1]");
        (Margin, Reduction) = (margin, reduction);
    }

    public double Margin { get; }
    public Reduction Reduction { get; }

    protected override Tensor ForwardCore(Tensor input1, Tensor input2, Tensor target) =>
        Functional.CosineEmbeddingLoss(input1, input2, target, Margin, Reduction);

    protected override string ExtraRepr() => $"margin={Margin}, reduction={Repr(Reduction)}";
}
