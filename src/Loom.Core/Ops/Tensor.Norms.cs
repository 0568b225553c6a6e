namespace Loom;

// Vector p-norms over a set of axes (every axis by default), like torch.linalg.vector_norm; p = 2 over a matrix is its
// Frobenius norm. Forward from existing ops, backward as PyTorch's norm_backward, with n = the norm (broadcast back):
//   p = 0:     y = #{x ≠ 0}                  dx = 0
//   p = 1:     y = Σ|x|                      dx = dy·sign(x)
//   p = 2:     y = √Σx²                      dx = dy·x/n            (0 where n = 0)
//   p = ±∞:    y = max|x| (min|x|)           dx = dy·sign(x)·m/#m, m = (|x| = n) or NaN: shared by the extreme elements
//   other p:   y = (Σ|x|ᵖ)^(1/p)             dx = dy·sign(x)|x|^(p−1)/n^(p−1)   (0 where n = 0)
public partial class Tensor
{
    /// <summary>The p-norm of all elements (p = 2: the Euclidean norm, the Frobenius norm of a matrix).</summary>
    public Tensor Norm(double p = 2) => NormCore(p, null, keepDim: false);

    /// <summary>The p-norm along <paramref name="axis"/>.</summary>
    public Tensor Norm(double p, int axis, bool keepDim = false) => NormCore(p, [axis], keepDim);

    /// <summary>The p-norm over <paramref name="axes"/> (like <c>torch.linalg.vector_norm(x, p, dim)</c>).</summary>
    public Tensor Norm(double p, int[] axes, bool keepDim = false) => NormCore(p, axes ?? throw new ArgumentNullException(nameof(axes)), keepDim);

    private Tensor NormCore(double p, int[]? axes, bool keepDim)
    {
        const string op = "norm";
        if (double.IsNaN(p)) throw new ArgumentException($"{op}: p must not be NaN (tensor of shape {Shape})");
        CheckFloat(DType, op);
        // Reduce a flat view when no axes are given: a rank-0 tensor then reduces too, like any other.
        var x = axes is null ? Reshape(-1) : this;
        var reduce = axes ?? [0];
        Tensor norm;
        using (new NoGrad())
        {
            var abs = x.Abs();
            norm = p switch
            {
                0 => x.Ne(0).To(DType).Sum(reduce, keepDim: true),
                1 => abs.Sum(reduce, keepDim: true),
                2 => x.Square().Sum(reduce, keepDim: true).Sqrt(),
                double.PositiveInfinity => abs.Max(reduce, keepDim: true),
                double.NegativeInfinity => abs.Min(reduce, keepDim: true),
                _ => abs.Pow(p).Sum(reduce, keepDim: true).Pow(1 / p),
            };
        }
        var reduced = reduce.Select(a => x.Shape.NormalizeAxis(a, op)).ToHashSet();
        int[] shape = axes is null
            ? keepDim ? [.. Enumerable.Repeat(1, Rank)] : []
            : keepDim ? norm.Shape.ToArray() : [.. x.Shape.ToArray().Where((_, d) => !reduced.Contains(d))];
        // A copy, not a view: the kept-dimension norm is saved for backward and must not change with the result.
        var result = norm.Reshape(shape).Clone();
        return GradMode.ShouldRecord(this) ? new NormBackward(this, x, norm, p, reduce).Attach(result) : result;
    }

    private sealed class NormBackward : BackwardNode
    {
        private readonly SavedTensor _x, _norm;
        private readonly double _p;
        private readonly int[] _axes;
        private readonly Shape _inputShape;

        public NormBackward(Tensor input, Tensor x, Tensor keptNorm, double p, int[] axes) : base("norm", input)
        {
            (_x, _norm) = (Save(x), Save(keptNorm));
            (_p, _axes, _inputShape) = (p, axes, input.Shape);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _x.Value;
            var n = _norm.Value;
            var g = gradOutput.Reshape(n.Shape.ToArray()); // the reduced axes back as size 1
            var zero = Scalar(0, x.DType);
            var isZero = n.Eq(0);
            Tensor dx = _p switch
            {
                0 => ZerosLike(x),
                1 => x.Sign().Mul(g),
                2 => x.Mul(Where(isZero, zero, g.Div(n))),
                double.PositiveInfinity or double.NegativeInfinity => Extreme(x, n, g),
                _ when _p < 2 => x.Sign().Mul(x.Abs().Pow(_p - 1)).Mul(Where(isZero, zero, g.Div(n.Pow(_p - 1)))),
                _ => x.Mul(x.Abs().Pow(_p - 2)).Mul(Where(isZero, zero, g.Div(n.Pow(_p - 1)))),
            };
            return [dx.Reshape(_inputShape.ToArray())];
        }

        private Tensor Extreme(Tensor x, Tensor n, Tensor g)
        {
            var abs = x.Abs();
            var mask = abs.Eq(n).LogicalOr(abs.IsNan()).To(x.DType);
            return x.Sign().Mul(g.Div(mask.Sum(_axes, keepDim: true)).Mul(mask));
        }
    }
}
