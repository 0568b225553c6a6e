namespace Loom.Nn;

/// <summary>
/// max(0, −y(x1 − x2) + margin), as <c>torch.nn.MarginRankingLoss</c>: y = 1 asks for x1 to rank above x2 by at
/// least the margin, y = −1 below. Call <see cref="Loss.Forward(Tensor, Tensor, Tensor)"/> with (input1, input2, target).
/// </summary>
/// <remarks>Shapes: input1, input2 and target [*], all the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
public sealed class MarginRankingLoss(double margin = 0, Reduction reduction = Reduction.Mean) : Loss
{
    public double Margin { get; } = margin;
    public Reduction Reduction { get; } = reduction;

    protected override Tensor ForwardCore(Tensor input1, Tensor input2, Tensor target) =>
        Functional.MarginRankingLoss(input1, input2, target, Margin, Reduction);

    protected override string ExtraRepr() => $"margin={Margin}, reduction={Repr(Reduction)}";
}
