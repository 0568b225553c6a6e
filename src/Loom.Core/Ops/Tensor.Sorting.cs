namespace Loom;

// Sorting along an axis.
//   sort(x, a):       (y, idx) with y[i] = x[i⟨a←idx[i]⟩] ascending (or descending) along a
//   topk(x, k, a):    the first k of that order
//   argsort(x, a):    idx alone (no gradient)
//   dx = zeros, then dx[i⟨a←idx[i]⟩] += dy[i]: each value's gradient goes back to the position it came from.
// The order is stable (equal values keep their positions' order), NaN sorts above +∞ and −0 equals +0, so results are
// deterministic and match PyTorch's stable sort.
public partial class Tensor
{
    /// <summary>
    /// Sorts along <paramref name="axis"/> (like <c>torch.sort(stable=True)</c>), returning the sorted values and the
    /// Int64 positions they came from. Gradients flow to the values.
    /// </summary>
    public (Tensor Values, Tensor Indices) Sort(int axis = -1, bool descending = false)
    {
        int a = Shape.NormalizeAxis(axis, "sort");
        return SortAlong("sort", a, OuterSizeInner(Shape, a).Size, largest: descending, sorted: true);
    }

    /// <summary>The Int64 positions that sort this tensor along <paramref name="axis"/> (the indices of <see cref="Sort"/>).</summary>
    public Tensor ArgSort(int axis = -1, bool descending = false)
    {
        using var noGrad = new NoGrad();
        return Sort(axis, descending).Indices;
    }

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) elements along <paramref name="axis"/> and their Int64 positions
    /// (like <c>torch.topk</c>). With <paramref name="sorted"/> they come in order, ties by position; without, in an
    /// unspecified order, which is cheaper (a selection instead of a sort). Gradients flow to the values.
    /// </summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int axis = -1, bool largest = true, bool sorted = true)
    {
        int a = Shape.NormalizeAxis(axis, "topk");
        int n = OuterSizeInner(Shape, a).Size;
        if (k < 0 || k > n || (Rank == 0 && k != 1))
            throw new ArgumentException($"topk: k = {k} is out of range for axis {axis} of size {n} (shape {Shape})");
        return SortAlong("topk", a, k, largest, sorted);
    }

    private (Tensor Values, Tensor Indices) SortAlong(string op, int axis, int k, bool largest, bool sorted)
    {
        var (outer, size, inner) = OuterSizeInner(Shape, axis);
        var dims = Shape.ToArray();
        if (Rank > 0) dims[axis] = k;
        var shape = Shape.Wrap(dims);
        var values = Empty(shape, DType);
        var indices = Empty(shape, DType.Int64);
        var src = ContiguousValues();
        switch (DType)
        {
            case DType.Float32: SortTyped<float>(src, outer, size, inner, k, largest, sorted, values, indices); break;
            case DType.Float64: SortTyped<double>(src, outer, size, inner, k, largest, sorted, values, indices); break;
            case DType.Int32: SortTyped<int>(src, outer, size, inner, k, largest, sorted, values, indices); break;
            case DType.Int64: SortTyped<long>(src, outer, size, inner, k, largest, sorted, values, indices); break;
            case DType.UInt8: SortTyped<byte>(src, outer, size, inner, k, largest, sorted, values, indices); break;
            case DType.Int8: SortTyped<sbyte>(src, outer, size, inner, k, largest, sorted, values, indices); break;
            case DType.Bool: SortTyped<bool>(src, outer, size, inner, k, largest, sorted, values, indices); break;
        }
        if (GradMode.ShouldRecord(this)) new SortBackward(op, this, axis, indices).Attach(values);
        return (values, indices);
    }

    private static void SortTyped<T>(Tensor source, int outer, int size, int inner, int k, bool largest, bool sorted, Tensor values, Tensor indices)
        where T : unmanaged
    {
        // Split the outer slices over threads; each slice sorts size-long rows, so small problems stay on one thread.
        int inBlock = size * inner, outBlock = k * inner;
        int grain = Math.Max(1, 32768 / Math.Max(1, inBlock));
        ParallelHelper.For(outer, grain, (start, end) =>
            IndexingKernels.TopK(
                source.Data<T>().Slice(start * inBlock, (end - start) * inBlock), end - start, size, inner, k, largest, sorted,
                values.Data<T>().Slice(start * outBlock, (end - start) * outBlock),
                indices.Data<long>().Slice(start * outBlock, (end - start) * outBlock)));
    }

    private sealed class SortBackward : BackwardNode
    {
        private readonly Shape _shape;
        private readonly DType _dtype;
        private readonly int _axis;
        private readonly SavedTensor _indices;

        public SortBackward(string op, Tensor input, int axis, Tensor indices) : base(op, input)
        {
            _shape = input.Shape;
            _dtype = input.DType;
            _axis = axis;
            _indices = Save(indices);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            if (_shape.Rank == 0) return [gradOutput];
            var grad = Zeros(_shape, _dtype);
            ScatterAddInto(grad, _axis, _indices.Value, gradOutput.Contiguous(), OpName);
            return [grad];
        }
    }
}
