namespace Loom;

// Softmax along one axis, numerically stable (the maximum is subtracted before exp):
//   softmax:      y = exp(x − m) / Σ exp(x − m)      dx = y ⊙ (dy − Σ dy ⊙ y)
//   log_softmax:  y = x − m − log Σ exp(x − m)       dx = dy − exp(y) Σ dy
// Both backward rules read only the saved output y, never the input.
public partial class Tensor
{
    /// <summary>Softmax along <paramref name="axis"/>: each slice along it becomes positive and sums to one.</summary>
    public Tensor Softmax(int axis) => SoftmaxCore(axis, log: false);

    /// <summary>log(softmax(x)) along <paramref name="axis"/>, computed directly (no log of a rounded softmax).</summary>
    public Tensor LogSoftmax(int axis) => SoftmaxCore(axis, log: true);

    private Tensor SoftmaxCore(int axis, bool log)
    {
        string name = log ? "log_softmax" : "softmax";
        int a = Shape.NormalizeAxis(axis, name);
        if (!DType.IsFloatingPoint()) throw new NotSupportedException($"{name}: dtype {DType.Name()} is not supported (float32 or float64)");
        var (outer, dim, inner) = SplitAt(Shape, a);
        var src = Detach().Contiguous();
        var result = Empty(Shape, DType);
        if (DType == DType.Float32) RunSoftmax<float>(src, result, outer, dim, inner, log);
        else RunSoftmax<double>(src, result, outer, dim, inner, log);
        return GradMode.ShouldRecord(this) ? new SoftmaxBackwardNode(this, result, outer, dim, inner, log).Attach(result) : result;
    }

    /// <summary>[product of dims before axis, dim, product of dims after axis]; a rank-0 tensor is [1, 1, 1].</summary>
    internal static (int Outer, int Dim, int Inner) SplitAt(Shape shape, int axis)
    {
        if (shape.Rank == 0) return (1, 1, 1);
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Rank; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }

    private static void RunSoftmax<T>(Tensor src, Tensor result, int outer, int dim, int inner, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = dim * inner;
        ParallelHelper.For(outer, RowGrain(size), (start, end) =>
        {
            var x = src.Data<T>().Slice(start * size, (end - start) * size);
            var y = result.Data<T>().Slice(start * size, (end - start) * size);
            if (log) SoftmaxKernels.LogSoftmax(x, end - start, dim, inner, y);
            else SoftmaxKernels.Softmax(x, end - start, dim, inner, y);
        });
    }

    private sealed class SoftmaxBackwardNode : BackwardNode
    {
        private readonly SavedTensor _output;
        private readonly int _outer, _dim, _inner;
        private readonly bool _log;

        public SoftmaxBackwardNode(Tensor input, Tensor output, int outer, int dim, int inner, bool log) : base(log ? "log_softmax" : "softmax", input)
        {
            _output = Save(output);
            (_outer, _dim, _inner, _log) = (outer, dim, inner, log);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var y = _output.Value;
            var dy = gradOutput.Contiguous();
            var dx = Empty(y.Shape, y.DType);
            if (y.DType == DType.Float32) Run<float>(y, dy, dx);
            else Run<double>(y, dy, dx);
            return [dx];
        }

        private void Run<T>(Tensor y, Tensor dy, Tensor dx) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int size = _dim * _inner, dim = _dim, inner = _inner;
            bool log = _log;
            ParallelHelper.For(_outer, RowGrain(size), (start, end) =>
            {
                var range = (start * size, (end - start) * size);
                var ys = y.Data<T>().Slice(range.Item1, range.Item2);
                var dys = dy.Data<T>().Slice(range.Item1, range.Item2);
                var dxs = dx.Data<T>().Slice(range.Item1, range.Item2);
                if (log) SoftmaxKernels.LogSoftmaxBackward<T>(ys, dys, end - start, dim, inner, dxs);
                else SoftmaxKernels.SoftmaxBackward<T>(ys, dys, end - start, dim, inner, dxs);
            });
        }
    }
}
