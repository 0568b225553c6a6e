namespace Loom;

// Values chosen by rank along an axis, with the positions they come from, composed from differentiable ops (ArgMax,
// Sort, Gather), so each value's gradient goes back to the element it was taken from:
//   max/min with indices:  (values, indices) of the first extreme element (the first NaN, if any), like torch.max(dim)
//   median:                the lower median, sorted[(n − 1)/2], or NaN when the line holds one (like torch.median);
//                          of the whole tensor, its gradient is shared by the elements equal to it, as PyTorch's
//   quantile:              sorted values at rank q·(n − 1), interpolated (QuantileInterpolation), NaN when the line
//                          holds one (like torch.quantile)
public partial class Tensor
{
    /// <summary>The largest values along <paramref name="axis"/> and their Int64 positions (the first on ties, the first NaN if any), like <c>torch.max(x, dim)</c>.</summary>
    public (Tensor Values, Tensor Indices) MaxWithIndices(int axis, bool keepDim = false) => Selected(ArgMax(axis, keepDim: true), axis, keepDim);

    /// <summary>The smallest values along <paramref name="axis"/> and their Int64 positions (the first on ties, the first NaN if any), like <c>torch.min(x, dim)</c>.</summary>
    public (Tensor Values, Tensor Indices) MinWithIndices(int axis, bool keepDim = false) => Selected(ArgMin(axis, keepDim: true), axis, keepDim);

    /// <summary>
    /// The lower median of all elements (the middle one of the sorted values; NaN if any is NaN), like
    /// <c>torch.median(x)</c>; elements equal to it (NaN ones, for a NaN median) share its gradient equally, as there.
    /// </summary>
    public Tensor Median()
    {
        Tensor median, ties;
        using (new NoGrad())
        {
            median = Reshape(-1).Median(0).Values.Reshape([]);
            ties = double.IsNaN(median.Item()) ? IsNan() : Eq(median);
        }
        return GradMode.ShouldRecord(this) ? new SharedGradientBackward("median", this, ties).Attach(median.Clone()) : median;
    }

    /// <summary>dx = dy / #ties on the tied elements, 0 elsewhere.</summary>
    private sealed class SharedGradientBackward : BackwardNode
    {
        private readonly SavedTensor _ties;

        public SharedGradientBackward(string op, Tensor input, Tensor ties) : base(op, input) => _ties = Save(ties);

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var ties = _ties.Value.To(gradOutput.DType);
            return [ties.Mul(gradOutput.Div(ties.Sum()))];
        }
    }

    /// <summary>
    /// The lower median along <paramref name="axis"/> and its Int64 position (NaN, at the first NaN's position, for a
    /// line that holds NaN), like <c>torch.median(x, dim)</c>.
    /// </summary>
    public (Tensor Values, Tensor Indices) Median(int axis, bool keepDim = false)
    {
        var (sorted, order, a, n, nonNan) = SortedLines("median", axis);
        var ranks = nonNan.Select(count => count < n ? count : (n - 1) / 2).ToArray();
        return Selected(sorted, order, a, ranks, keepDim);
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile along <paramref name="axis"/> (of all elements when null), like
    /// <c>torch.quantile</c>: the sorted values at rank q·(n − 1), interpolated between neighbours as
    /// <paramref name="interpolation"/> says; NaN for a line that holds NaN.
    /// </summary>
    public Tensor Quantile(double q, int? axis = null, bool keepDim = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
    {
        const string op = "quantile";
        if (!(q >= 0 && q <= 1)) throw new ArgumentException($"{op}: q must be in [0, 1], got {q} (tensor of shape {Shape})");
        CheckFloat(DType, op);
        if (axis is null)
        {
            var all = Reshape(-1).Quantile(q, 0, keepDim: false, interpolation);
            return keepDim ? all.Reshape([.. Enumerable.Repeat(1, Rank)]) : all.Reshape([]);
        }
        var (sorted, _, a, n, nonNan) = SortedLines(op, axis.Value);
        if (n == 0) throw new ArgumentException($"{op}: cannot take a quantile of zero elements (axis {axis} of shape {Shape})");
        double rank = q * (n - 1);
        // A line with NaN takes its last sorted element, a NaN, as PyTorch does.
        long Pick(long count, double r) => count < n ? n - 1 : (long)r;
        var lower = nonNan.Select(c => Pick(c, Math.Floor(rank))).ToArray();
        var upper = nonNan.Select(c => Pick(c, Math.Ceiling(rank))).ToArray();
        var nearest = nonNan.Select(c => Pick(c, Math.Round(rank, MidpointRounding.ToEven))).ToArray();
        var lo = Gathered(sorted, a, lower, keepDim);
        switch (interpolation)
        {
            case QuantileInterpolation.Lower: return lo;
            case QuantileInterpolation.Higher: return Gathered(sorted, a, upper, keepDim);
            case QuantileInterpolation.Nearest: return Gathered(sorted, a, nearest, keepDim);
        }
        var hi = Gathered(sorted, a, upper, keepDim);
        double w = interpolation == QuantileInterpolation.Midpoint ? 0.5 : rank - Math.Floor(rank);
        // PyTorch's lerp: from the nearer end, so that w = 1 gives hi exactly.
        return w < 0.5 ? lo.Add(hi.Sub(lo).Mul(w)) : hi.Sub(hi.Sub(lo).Mul(1 - w));
    }

    private (Tensor Values, Tensor Indices) Selected(Tensor indices, int axis, bool keepDim)
    {
        int a = Shape.NormalizeAxis(axis, Math.Max(Rank, 1), "max", Shape);
        var values = Rank == 0 ? this : Gather(a, indices);
        return keepDim || Rank == 0 ? (values, indices) : (values.Squeeze(a), indices.Squeeze(a));
    }

    /// <summary>The sorted values and their positions along the axis, the axis, its length, and each line's count of non-NaN elements (row-major over the other axes).</summary>
    private (Tensor Sorted, Tensor Order, int Axis, int N, long[] NonNan) SortedLines(string op, int axis)
    {
        int a = Shape.NormalizeAxis(axis, Math.Max(Rank, 1), op, Shape);
        var x = Rank == 0 ? Reshape(1) : this;
        int n = x.Shape[a];
        var (sorted, order) = x.Sort(a); // stable, NaN last
        long[] nonNan;
        using (new NoGrad()) nonNan = x.IsNan().LogicalNot().Sum(a).ToArray<long>();
        return (sorted, order, a, n, nonNan);
    }

    private (Tensor Values, Tensor Indices) Selected(Tensor sorted, Tensor order, int axis, long[] ranks, bool keepDim)
    {
        var at = RankIndex(sorted, axis, ranks);
        var (values, indices) = (sorted.Gather(axis, at), order.Gather(axis, at));
        if (Rank == 0) return (values.Reshape([]), indices.Reshape([]));
        return keepDim ? (values, indices) : (values.Squeeze(axis), indices.Squeeze(axis));
    }

    private Tensor Gathered(Tensor sorted, int axis, long[] ranks, bool keepDim)
    {
        var values = sorted.Gather(axis, RankIndex(sorted, axis, ranks));
        if (Rank == 0) return values.Reshape([]);
        return keepDim ? values : values.Squeeze(axis);
    }

    /// <summary>An Int64 index of the sorted tensor's shape with the axis of size 1, holding each line's rank.</summary>
    private static Tensor RankIndex(Tensor sorted, int axis, long[] ranks)
    {
        var dims = sorted.Shape.ToArray();
        dims[axis] = 1;
        return FromArray(ranks, dims);
    }
}
