namespace Loom.Nn;

/// <summary>
/// The multi-class hinge loss Σ_{i ≠ y} max(0, margin − x[y] + x[i])ᵖ / C, as <c>torch.nn.MultiMarginLoss</c>; the
/// class weight is a buffer named <c>weight</c>, as in PyTorch's state dict.
/// </summary>
/// <remarks>Shapes: input [N, C] or [C]; target [N] (or []) of Int64/Int32 class indices; output [] or, with
/// <see cref="Reduction.None"/>, [N].</remarks>
public sealed class MultiMarginLoss : Loss
{
    /// <param name="p">1 or 2.</param>
    /// <param name="weight">Optional per-class weights [C].</param>
    public MultiMarginLoss(int p = 1, double margin = 1.0, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        if (p is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(p), p, "MultiMarginLoss: p must be 1 or 2");
        if (weight is not null && weight.Rank != 1) throw new ArgumentException($"MultiMarginLoss: weight must have one value per class, got shape {weight.Shape}");
        Weight = RegisterBuffer("weight", weight);
        (P, Margin, Reduction) = (p, margin, reduction);
    }

    public int P { get; }
    public double Margin { get; }

    /// <summary>The per-class weights (a copy owned by this module), or null.</summary>
    public Tensor? Weight { get; }
    public Reduction Reduction { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.MultiMarginLoss(input, target, P, Margin, Weight, Reduction);

    protected override string ExtraRepr() => $"p={P}, margin={Margin}, reduction={Repr(Reduction)}{(Weight is null ? "" : $", weight: {Weight.Shape}")}";
}
