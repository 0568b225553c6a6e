namespace Loom;

// Losses on pairs and triplets of embeddings, composed from tensor ops (they are small next to the network that
// produces their inputs, and autograd composes their gradients exactly). With d the feature axis (the last):
//   cosine_embedding:  cos = Σ_d x1·x2 / √((Σ_d x1² + ε)(Σ_d x2² + ε)), ε = 1e-12
//                      ℓ = 1 − cos where y = 1, max(0, cos − margin) where y = −1, 0 for any other y
//   margin_ranking:    ℓ = max(0, −y(x1 − x2) + margin)
//   triplet_margin:    D(u, v) = ‖u − v + eps‖_p,  ℓ = max(D(a, p) − D(a, n) + margin, 0); with swap,
//                      D(a, n) becomes min(D(a, n), D(p, n))
// Gradients are the composed ops' (cosine_embedding's y only selects, so it gets none, as in PyTorch).
public static partial class Functional
{
    /// <summary>
    /// Whether pairs are similar (y = 1: 1 − cos) or dissimilar (y = −1: max(0, cos − margin)), as
    /// <c>torch.nn.functional.cosine_embedding_loss</c>.
    /// </summary>
    /// <remarks>Shapes: input1 and input2 [N, D] with target [N], or [D] with a scalar target; output [] or, with
    /// <see cref="Reduction.None"/>, [N].</remarks>
    public static Tensor CosineEmbeddingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        const string op = "cosine_embedding_loss";
        CheckEmbeddings(op, input1, input2);
        var expected = input1.Rank == 2 ? new Shape(input1.Shape[0]) : Shape.Scalar;
        if (target.Shape != expected)
            throw new ArgumentException($"{op}: target shape {target.Shape} does not match inputs of shape {input1.Shape} (expected target shape {expected})");
        const double eps = 1e-12; // PyTorch's EPSILON: keeps a zero vector's cosine finite (0)
        int d = input1.Rank - 1;
        var product = input1.Mul(input2).Sum(d);
        var norms = input1.Square().Sum(d).Add(eps).Mul(input2.Square().Sum(d).Add(eps)).Sqrt();
        var cos = product.Div(norms);
        var zero = Tensor.Scalar(0, cos.DType);
        var similar = Tensor.Where(target.Eq(1), cos.RSub(1), zero);
        var dissimilar = Tensor.Where(target.Eq(-1), cos.Sub(margin).Clamp(min: 0), zero);
        return Reduce(similar.Add(dissimilar), reduction, op);
    }

    /// <summary>
    /// max(0, −y(x1 − x2) + margin): y = 1 asks for x1 to rank above x2 by the margin, y = −1 for below, as
    /// <c>torch.nn.functional.margin_ranking_loss</c>.
    /// </summary>
    /// <remarks>Shapes: input1, input2 and target [*], all the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor MarginRankingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0, Reduction reduction = Reduction.Mean)
    {
        const string op = "margin_ranking_loss";
        if (input1.Shape != input2.Shape || input1.Shape != target.Shape)
            throw new ArgumentException($"{op}: input1 shape {input1.Shape}, input2 shape {input2.Shape} and target shape {target.Shape} must be equal");
        CheckFloat(op, input1, input2, target);
        return Reduce(target.Mul(input1.Sub(input2)).RSub(margin).Clamp(min: 0), reduction, op);
    }

    /// <summary>
    /// max(‖a − p‖ − ‖a − n‖ + margin, 0): pulls the anchor towards the positive and pushes it from the negative, as
    /// <c>torch.nn.functional.triplet_margin_loss</c> (distances are ‖u − v + eps‖_p, as PyTorch's pairwise_distance).
    /// </summary>
    /// <param name="swap">Use min(‖a − n‖, ‖p − n‖) as the negative distance (the "distance swap" of Balntas et al., 2016).</param>
    /// <remarks>Shapes: anchor, positive and negative [N, D] or [D], all the same; output [] or, with
    /// <see cref="Reduction.None"/>, [N].</remarks>
    public static Tensor TripletMarginLoss(Tensor anchor, Tensor positive, Tensor negative, double margin = 1.0, double p = 2, double eps = 1e-6,
        bool swap = false, Reduction reduction = Reduction.Mean)
    {
        const string op = "triplet_margin_loss";
        if (anchor.Shape != positive.Shape || anchor.Shape != negative.Shape)
            throw new ArgumentException($"{op}: anchor shape {anchor.Shape}, positive shape {positive.Shape} and negative shape {negative.Shape} must be equal");
        CheckEmbeddings(op, anchor, positive);
        CheckFloat(op, anchor, positive, negative);
        if (!(p > 0) || double.IsInfinity(p)) throw new ArgumentOutOfRangeException(nameof(p), p, $"{op}: the norm degree p must be positive and finite");
        var toPositive = PairwiseDistance(anchor, positive, p, eps);
        var toNegative = PairwiseDistance(anchor, negative, p, eps);
        if (swap) toNegative = toNegative.Minimum(PairwiseDistance(positive, negative, p, eps));
        return Reduce(toPositive.Sub(toNegative).Add(margin).Clamp(min: 0), reduction, op);
    }

    /// <summary>‖u − v + eps‖_p along the last axis.</summary>
    private static Tensor PairwiseDistance(Tensor u, Tensor v, double p, double eps)
    {
        var difference = u.Sub(v).Add(eps);
        return p switch
        {
            2 => difference.Square().Sum(-1).Sqrt(),
            1 => difference.Abs().Sum(-1),
            _ => difference.Abs().Pow(p).Sum(-1).Pow(1 / p),
        };
    }

    private static Tensor Reduce(Tensor loss, Reduction reduction, string op) => reduction switch
    {
        Reduction.None => loss,
        Reduction.Sum => loss.Sum(),
        Reduction.Mean => loss.Mean(),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, $"{op}: unknown reduction"),
    };

    private static void CheckEmbeddings(string op, Tensor input1, Tensor input2)
    {
        if (input1.Shape != input2.Shape)
            throw new ArgumentException($"{op}: input shapes {input1.Shape} and {input2.Shape} differ");
        if (input1.Rank is not (1 or 2))
            throw new ArgumentException($"{op}: inputs must be [N, D] batches or [D] vectors, got shape {input1.Shape}");
        CheckFloat(op, input1, input2);
    }

    private static void CheckFloat(string op, params Tensor[] tensors)
    {
        foreach (var t in tensors)
            if (t.DType != tensors[0].DType || !t.DType.IsFloatingPoint())
                throw new ArgumentException($"{op}: inputs must share one float dtype, got {string.Join(", ", tensors.Select(x => $"{x.DType.Name()} {x.Shape}"))}");
    }
}
