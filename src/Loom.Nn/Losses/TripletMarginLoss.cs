namespace Loom.Nn;

/// <summary>
/// max(‖a − p‖ − ‖a − n‖ + margin, 0), as <c>torch.nn.TripletMarginLoss</c>: pulls an anchor towards a positive
/// and pushes it away from a negative. Call <see cref="Loss.Forward(Tensor, Tensor, Tensor)"/> with (anchor, positive, negative).
/// </summary>
/// <remarks>Shapes: anchor, positive and negative [N, D] or [D], all the same; output [] or, with
/// <see cref="Reduction.None"/>, [N].</remarks>
public sealed class TripletMarginLoss : Loss
{
    /// <param name="p">Degree of the distance norm.</param>
    /// <param name="eps">Added to the differences before the norm, as PyTorch's pairwise_distance (keeps the norm's gradient finite).</param>
    /// <param name="swap">Use min(‖a − n‖, ‖p − n‖) as the negative distance.</param>
    public TripletMarginLoss(double margin = 1.0, double p = 2, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        if (!(p > 0) || double.IsInfinity(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "TripletMarginLoss: p must be positive and finite");
        (Margin, P, Eps, Swap, Reduction) = (margin, p, eps, swap, reduction);
    }

    public double Margin { get; }
    public double P { get; }
    public double Eps { get; }
    public bool Swap { get; }
    public Reduction Reduction { get; }

    protected override Tensor ForwardCore(Tensor anchor, Tensor positive, Tensor negative) =>
        Functional.TripletMarginLoss(anchor, positive, negative, Margin, P, Eps, Swap, Reduction);

    protected override string ExtraRepr() => $"margin={Margin}, p={P}, eps={Eps}, swap={Swap}, reduction={Repr(Reduction)}";
}
