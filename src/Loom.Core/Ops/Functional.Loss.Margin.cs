namespace Loom;

// Margin losses, composed from tensor ops (gradients by composition), with PyTorch's formulas:
//   hinge_embedding:  ℓ = x where y ≠ −1, plus max(0, margin − x) where y ≠ 1 (so y = ±1 picks one term)
//   soft_margin:      ℓ = log(1 + e^(−y·x))
//   multi_margin:     ℓ_n = Σ_{i ≠ y_n} w_{y_n}·max(0, margin − x[y_n] + x[i])ᵖ / C,  p ∈ {1, 2}
public static partial class Functional
{
    /// <summary>
    /// x for similar pairs (y = 1) and max(0, margin − x) for dissimilar ones (y = −1), x usually a distance (like
    /// <c>torch.nn.functional.hinge_embedding_loss</c>).
    /// </summary>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor HingeEmbeddingLoss(Tensor input, Tensor target, double margin = 1.0, Reduction reduction = Reduction.Mean)
    {
        const string op = "hinge_embedding_loss";
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        CheckFloat(op, input, target);
        if (input.Shape != target.Shape) throw new ArgumentException($"{op}: input shape {input.Shape} and target shape {target.Shape} must be equal");
        var zero = Tensor.Scalar(0, input.DType);
        var dissimilar = Tensor.Where(target.Ne(1), input.RSub(margin).Clamp(min: 0), zero);
        var similar = Tensor.Where(target.Ne(-1), input, zero);
        return Reduce(dissimilar.Add(similar), reduction, op);
    }

    /// <summary>
    /// The two-class logistic loss log(1 + e^(−y·x)) for targets y = ±1 (like <c>torch.nn.functional.soft_margin_loss</c>);
    /// no gradient for the target, as in PyTorch.
    /// </summary>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor SoftMarginLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        const string op = "soft_margin_loss";
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        CheckFloat(op, input, target);
        if (input.Shape != target.Shape) throw new ArgumentException($"{op}: input shape {input.Shape} and target shape {target.Shape} must be equal");
        return Reduce(input.Mul(target.Detach()).Neg().Exp().Log1p(), reduction, op);
    }

    /// <summary>
    /// The multi-class hinge loss (like <c>torch.nn.functional.multi_margin_loss</c>): every wrong class i whose score
    /// comes within <paramref name="margin"/> of the target's adds (margin − x[y] + x[i])ᵖ, weighted by the target
    /// class's weight, averaged over the C classes.
    /// </summary>
    /// <param name="target">Class indices (Int64 or Int32) [N] (a scalar for a [C] input).</param>
    /// <param name="p">1 or 2.</param>
    /// <param name="weight">Optional per-class weights [C] (no gradient).</param>
    /// <remarks>Shapes: input [N, C] or [C]; output [] or, with <see cref="Reduction.None"/>, [N] (or []).</remarks>
    public static Tensor MultiMarginLoss(Tensor input, Tensor target, int p = 1, double margin = 1.0, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "multi_margin_loss";
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (p is not (1 or 2)) throw new ArgumentException($"{op}: p must be 1 or 2, got {p}");
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: input must be float32 or float64, got {input.DType.Name()}");
        if (input.Rank is not (1 or 2) || input.Shape[^1] == 0) throw new ArgumentException($"{op}: expected input [N, C] or [C] with C > 0, got shape {input.Shape}");
        var x = input.Rank == 1 ? input.Unsqueeze(0) : input;
        int c = x.Shape[1];
        var expected = input.Rank == 1 ? Shape.Scalar : new Shape(x.Shape[0]);
        if (target.Shape != expected) throw new ArgumentException($"{op}: target shape {target.Shape} does not fit input shape {input.Shape} (expected {expected})");
        if (target.DType is not (DType.Int64 or DType.Int32)) throw new ArgumentException($"{op}: target must hold class indices (int64 or int32), got {target.DType.Name()}");
        var y = target.To(DType.Int64).Reshape(-1, 1);
        if (y.Numel > 0)
        {
            long lo = (long)y.Min().Item(), hi = (long)y.Max().Item();
            if (lo < 0 || hi >= c) throw new ArgumentException($"{op}: target index {(lo < 0 ? lo : hi)} is out of range for {c} classes (input {input.Shape})");
        }
        if (weight is not null && (weight.Shape != new Shape(c) || weight.DType != input.DType))
            throw new ArgumentException($"{op}: weight must be [{c}] of the input's dtype, got {weight.DType.Name()} {weight.Shape}");

        var scoreOfTarget = x.Gather(1, y);
        var hinge = x.Sub(scoreOfTarget).Add(margin).Clamp(min: 0);
        if (p == 2) hinge = hinge.Square();
        var wrongClass = Tensor.Arange(c).Ne(y).To(input.DType); // [N, C]: 0 at each row's target class
        var perSample = hinge.Mul(wrongClass).Sum(1).Div(c);
        if (weight is not null) perSample = perSample.Mul(weight.Detach().IndexSelect(0, y.Reshape(-1)));
        if (input.Rank == 1) perSample = perSample.Reshape([]);
        return Reduce(perSample, reduction, op);
    }
}
