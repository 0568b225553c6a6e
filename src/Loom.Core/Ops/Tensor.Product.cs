namespace Loom;

// Product along one axis (or of everything), accumulated in double:
//   prod:  y = Π_k x_k      dx_k = dy · Π_{i ≠ k} x_i   (dy·y/x_k without zeros, as PyTorch; exact with zeros: see
//                           CumulativeKernels.ProdBackward)
// Floats keep their dtype; integer and bool inputs give Int64, as PyTorch's.
public partial class Tensor
{
    /// <summary>The product of all elements as a scalar (1 for an empty tensor), like <c>torch.prod</c>.</summary>
    public Tensor Prod() => Reshape(-1).ProdCore(0, keepDim: false, Shape.Scalar);

    /// <summary>The product along <paramref name="axis"/>.</summary>
    public Tensor Prod(int axis, bool keepDim = false)
    {
        int a = Shape.NormalizeAxis(axis, Math.Max(Rank, 1), "prod", Shape);
        var dims = Shape.ToArray().ToList();
        if (Rank > 0)
        {
            if (keepDim) dims[a] = 1;
            else dims.RemoveAt(a);
        }
        return ProdCore(a, keepDim, new Shape([.. dims]));
    }

    private Tensor ProdCore(int axis, bool keepDim, Shape output)
    {
        var (x, _, outer, n, inner, dtype) = ScanLayout("prod", axis);
        if (dtype == DType.Int64)
        {
            var longs = Empty(output, DType.Int64);
            CumulativeKernels.Prod(x.Data<long>(), longs.Data<long>(), outer, n, inner);
            return longs;
        }
        var values = new double[outer * inner];
        CumulativeKernels.Prod(x.Data<double>(), values, outer, n, inner);
        var result = FromDoubles(values, output, dtype);
        return GradMode.ShouldRecord(this) ? new ProdBackward(this, x, values, outer, n, inner).Attach(result) : result;
    }

    private sealed class ProdBackward : BackwardNode
    {
        private readonly SavedTensor _x;
        private readonly double[] _y;
        private readonly int _outer, _n, _inner;
        private readonly DType _dtype;

        public ProdBackward(Tensor input, Tensor x, double[] y, int outer, int n, int inner) : base("prod", input)
        {
            _x = Save(x);
            (_y, _outer, _n, _inner, _dtype) = (y, outer, n, inner, input.DType);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _x.Value;
            var dy = gradOutput.To(DType.Float64).Contiguous();
            var dx = new double[x.Numel];
            CumulativeKernels.ProdBackward(x.Data<double>(), _y, dy.Data<double>(), dx, _outer, _n, _inner);
            return [FromDoubles(dx, x.Shape, _dtype)];
        }
    }
}
