namespace Loom;

// Inclusive scans along one axis (Kernels/CumulativeKernels.cs), accumulated in double:
//   cumsum:  y_k = Σ_{j ≤ k} x_j        dx = reverse cumsum of dy: dx_k = Σ_{j ≥ k} dy_j
//   cumprod: y_k = Π_{j ≤ k} x_j        dx_k = Σ_{j ≥ k} dy_j Π_{i ≤ j, i ≠ k} x_i (exact with zeros: see the kernel)
// Floats keep their dtype; integer and bool inputs give Int64, as PyTorch's.
public partial class Tensor
{
    /// <summary>Running sums along <paramref name="axis"/> (like <c>torch.cumsum</c>); integers and bools give Int64.</summary>
    public Tensor CumSum(int axis)
    {
        var (x, a, outer, n, inner, dtype) = ScanLayout("cumsum", axis);
        var result = Scan(x, outer, n, inner, dtype, product: false);
        return GradMode.ShouldRecord(this) ? new CumSumBackward(this, a).Attach(result) : result;
    }

    /// <summary>Running products along <paramref name="axis"/> (like <c>torch.cumprod</c>); integers and bools give Int64.</summary>
    public Tensor CumProd(int axis)
    {
        var (x, _, outer, n, inner, dtype) = ScanLayout("cumprod", axis);
        var result = Scan(x, outer, n, inner, dtype, product: true);
        return GradMode.ShouldRecord(this) ? new CumProdBackward(this, x, result, outer, n, inner).Attach(result) : result;
    }

    /// <summary>The input as a contiguous double (or, for integers, Int64) tensor and its [outer, n, inner] lines.</summary>
    private (Tensor X, int Axis, int Outer, int N, int Inner, DType DType) ScanLayout(string op, int axis)
    {
        int a = Shape.NormalizeAxis(axis, Math.Max(Rank, 1), op, Shape); // a scalar scans along axis 0 or −1, as in PyTorch
        var (outer, n, inner) = Rank == 0 ? (1, 1, 1) : OuterSizeInner(Shape, a);
        bool floating = DType.IsFloatingPoint();
        Tensor x;
        using (new NoGrad()) x = To(floating ? DType.Float64 : DType.Int64).Contiguous();
        return (x, a, outer, n, inner, floating ? DType : DType.Int64);
    }

    private Tensor Scan(Tensor x, int outer, int n, int inner, DType dtype, bool product)
    {
        if (dtype == DType.Int64)
        {
            var longs = Empty(Shape, DType.Int64);
            if (product) CumulativeKernels.CumProd(x.Data<long>(), longs.Data<long>(), outer, n, inner);
            else CumulativeKernels.CumSum(x.Data<long>(), longs.Data<long>(), outer, n, inner);
            return longs;
        }
        var values = new double[Numel];
        if (product) CumulativeKernels.CumProd(x.Data<double>(), values, outer, n, inner);
        else CumulativeKernels.CumSum(x.Data<double>(), values, outer, n, inner);
        return FromDoubles(values, Shape, dtype);
    }

    private sealed class CumSumBackward(Tensor input, int axis) : BackwardNode("cumsum", input)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput) =>
            [gradOutput.Rank == 0 ? gradOutput : gradOutput.Flip(axis).CumSum(axis).Flip(axis)];
    }

    private sealed class CumProdBackward : BackwardNode
    {
        private readonly SavedTensor _x, _y;
        private readonly int _outer, _n, _inner;
        private readonly DType _dtype;

        public CumProdBackward(Tensor input, Tensor x, Tensor y, int outer, int n, int inner) : base("cumprod", input)
        {
            (_x, _y) = (Save(x), Save(y));
            (_outer, _n, _inner, _dtype) = (outer, n, inner, input.DType);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var x = _x.Value;
            var y = _y.Value.To(DType.Float64).Contiguous();
            var dy = gradOutput.To(DType.Float64).Contiguous();
            var dx = new double[x.Numel];
            CumulativeKernels.CumProdBackward(x.Data<double>(), y.Data<double>(), dy.Data<double>(), dx, _outer, _n, _inner);
            return [FromDoubles(dx, x.Shape, _dtype)];
        }
    }
}
