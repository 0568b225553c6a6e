namespace Loom;

// Views: new shape/strides/offset over the same storage, no copy.
//   reshape/view/flatten/squeeze/unsqueeze:  dx = reshape(dy, x.shape)
//   transpose/permute:                        dx = permute(dy, inverse permutation)
//   slice/narrow/select:                      dx = zeros(x.shape) with dy written into the same slice
//   expand/broadcast_to:                      dx = sum of dy over the broadcast dimensions (SumToSize)
public partial class Tensor
{
    // An empty view starts at 0: selecting row i of [T, 0, C] would otherwise point i·C elements into a storage of
    // length 0, which Data() reads as a storage returned to the pool.
    private Tensor ViewOf(Shape shape, int[] strides, int offset) => new(Storage, shape, strides, shape.Numel == 0 ? 0 : offset);

    /// <summary>
    /// The same elements with a new shape; one dimension may be -1 (inferred). Shares storage when this tensor is
    /// contiguous, otherwise copies (as <c>torch.reshape</c>).
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        var target = InferShape(shape, "reshape");
        if (target == Shape) return this;
        var source = Contiguous();
        var result = source.ViewOf(target, target.ContiguousStrides(), source.Offset);
        return GradMode.ShouldRecord(this) ? new ReshapeBackward(source).Attach(result) : result;
    }

    /// <summary>As <see cref="Reshape"/>, but never copies: throws on a non-contiguous tensor (as <c>torch.view</c>).</summary>
    public Tensor View(params int[] shape)
    {
        if (!IsContiguous)
            throw new InvalidOperationException($"view: tensor of shape {Shape} with strides {Shape.Format(_strides)} is not contiguous; use Reshape() (which copies) or Contiguous() first");
        return Reshape(shape);
    }

    /// <summary>Flattens dimensions start..end (inclusive) into one.</summary>
    public Tensor Flatten(int startAxis = 0, int endAxis = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shape.NormalizeAxis(startAxis, "flatten"), e = Shape.NormalizeAxis(endAxis, "flatten");
        if (s > e) throw new ArgumentException($"flatten: start axis {startAxis} comes after end axis {endAxis} for shape {Shape}");
        var dims = new List<int>();
        for (int i = 0; i < s; i++) dims.Add(Shape[i]);
        int merged = 1;
        for (int i = s; i <= e; i++) merged *= Shape[i];
        dims.Add(merged);
        for (int i = e + 1; i < Rank; i++) dims.Add(Shape[i]);
        return Reshape(dims.ToArray());
    }

    private Shape InferShape(int[] shape, string op)
    {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be -1, got {Shape.Format(shape)}");
                infer = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"{op}: invalid dimension {shape[i]} in {Shape.Format(shape)}");
            else known *= shape[i];
        }
        var dims = (int[])shape.Clone();
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0)
                throw new ArgumentException($"{op}: cannot reshape tensor of shape {Shape} ({Numel} elements) into {Shape.Format(shape)}");
            dims[infer] = (int)(Numel / known);
        }
        var target = Shape.Wrap(dims);
        if (target.Numel != Numel)
            throw new ArgumentException($"{op}: cannot reshape tensor of shape {Shape} ({Numel} elements) into {target} ({target.Numel} elements)");
        return target;
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        var perm = new int[Rank];
        for (int i = 0; i < Rank; i++) perm[i] = i;
        int a = Shape.NormalizeAxis(axis0, "transpose"), b = Shape.NormalizeAxis(axis1, "transpose");
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>Reorders dimensions: result dimension i is this tensor's dimension <c>axes[i]</c> (a view).</summary>
    public Tensor Permute(params int[] axes)
    {
        if (axes.Length != Rank) throw new ArgumentException($"permute: {axes.Length} axes {Shape.Format(axes)} given for a tensor of shape {Shape}");
        var seen = new bool[Rank];
        var dims = new int[Rank];
        var strides = new int[Rank];
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int a = Shape.NormalizeAxis(axes[i], "permute");
            if (seen[a]) throw new ArgumentException($"permute: axis {axes[i]} repeats in {Shape.Format(axes)} (shape {Shape})");
            seen[a] = true;
            dims[i] = Shape[a];
            strides[i] = _strides[a];
            inverse[a] = i;
        }
        var result = ViewOf(Shape.Wrap(dims), strides, Offset);
        return GradMode.ShouldRecord(this) ? new PermuteBackward(this, inverse).Attach(result) : result;
    }

    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor Squeeze()
    {
        var dims = new List<int>();
        foreach (var d in Shape.Dims) if (d != 1) dims.Add(d);
        return Reshape(dims.ToArray());
    }

    /// <summary>Removes dimension <paramref name="axis"/> if its size is 1 (else returns the tensor unchanged, as PyTorch).</summary>
    public Tensor Squeeze(int axis)
    {
        int a = Shape.NormalizeAxis(axis, "squeeze");
        if (Shape[a] != 1) return this;
        var dims = Shape.ToArray().ToList();
        dims.RemoveAt(a);
        return Reshape(dims.ToArray());
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="axis"/> (which may be Rank, or negative).</summary>
    public Tensor Unsqueeze(int axis)
    {
        int a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank) throw new ArgumentException($"unsqueeze: axis {axis} is out of range for a tensor of shape {Shape}");
        var dims = Shape.ToArray().ToList();
        dims.Insert(a, 1);
        var strides = _strides.ToList();
        strides.Insert(a, a < Rank ? _strides[a] * Shape[a] : 1);
        var result = ViewOf(Shape.Wrap(dims.ToArray()), strides.ToArray(), Offset);
        return GradMode.ShouldRecord(this) ? new ReshapeBackward(this).Attach(result) : result;
    }

    /// <summary>
    /// Elements start, start+step, … below end along <paramref name="axis"/> (a view, like <c>x[..., start:end:step]</c>).
    /// Negative start/end count from the end; out-of-range bounds are clamped as in Python slicing.
    /// </summary>
    public Tensor Slice(int axis, int start, int end, int step = 1)
    {
        int a = Shape.NormalizeAxis(axis, "slice");
        if (step <= 0) throw new ArgumentException($"slice: step must be positive, got {step}");
        int n = Shape[a];
        int s = Math.Clamp(start < 0 ? start + n : start, 0, n);
        int e = Math.Clamp(end < 0 ? end + n : end, 0, n);
        int len = e > s ? (e - s + step - 1) / step : 0;
        var dims = Shape.ToArray();
        dims[a] = len;
        var strides = (int[])_strides.Clone();
        strides[a] *= step;
        var result = ViewOf(Shape.Wrap(dims), strides, Offset + (len > 0 ? s * _strides[a] : 0));
        return GradMode.ShouldRecord(this) ? new SliceBackward(this, a, s, step, selectIndex: null).Attach(result) : result;
    }

    /// <summary><paramref name="length"/> elements from <paramref name="start"/> along <paramref name="axis"/> (a view).</summary>
    public Tensor Narrow(int axis, int start, int length)
    {
        int a = Shape.NormalizeAxis(axis, "narrow");
        if (start < 0) start += Shape[a];
        if (start < 0 || length < 0 || start + length > Shape[a])
            throw new ArgumentException($"narrow: start {start} with length {length} is out of range for dimension {a} of size {Shape[a]} (shape {Shape})");
        return Slice(a, start, start + length);
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="axis"/>, with that dimension removed (a view, like <c>x[i]</c>).</summary>
    public Tensor Select(int axis, int index)
    {
        int a = Shape.NormalizeAxis(axis, "select");
        int i = index < 0 ? index + Shape[a] : index;
        if ((uint)i >= (uint)Shape[a])
            throw new ArgumentException($"select: index {index} is out of range for dimension {a} of size {Shape[a]} (shape {Shape})");
        var dims = new int[Rank - 1];
        var strides = new int[Rank - 1];
        for (int d = 0, k = 0; d < Rank; d++)
        {
            if (d == a) continue;
            dims[k] = Shape[d];
            strides[k++] = _strides[d];
        }
        var result = ViewOf(Shape.Wrap(dims), strides, Offset + i * _strides[a]);
        return GradMode.ShouldRecord(this) ? new SliceBackward(this, a, i, 1, selectIndex: i).Attach(result) : result;
    }

    /// <summary>
    /// Broadcasts size-1 dimensions to larger sizes without copying (stride 0); -1 keeps a size. New leading
    /// dimensions may be added. Like <c>torch.expand</c>.
    /// </summary>
    public Tensor Expand(params int[] sizes)
    {
        if (sizes.Length < Rank) throw new ArgumentException($"expand: target {Shape.Format(sizes)} has fewer dimensions than shape {Shape}");
        var dims = new int[sizes.Length];
        var strides = new int[sizes.Length];
        int lead = sizes.Length - Rank;
        for (int i = 0; i < sizes.Length; i++)
        {
            int own = i < lead ? 1 : Shape[i - lead];
            int want = sizes[i] == -1 ? own : sizes[i];
            if (i < lead && sizes[i] == -1) throw new ArgumentException($"expand: -1 is not allowed for the new leading dimension {i} in {Shape.Format(sizes)}");
            if (own != want && own != 1)
                throw new ArgumentException($"expand: shape {Shape} cannot be expanded to {Shape.Format(sizes)} (dimension {i}: {own} vs {want})");
            dims[i] = want;
            strides[i] = i < lead || (own == 1 && want != 1) ? 0 : _strides[i - lead];
        }
        var target = Shape.Wrap(dims);
        if (target == Shape) return this;
        var result = ViewOf(target, strides, Offset);
        return GradMode.ShouldRecord(this) ? new ExpandBackward(this).Attach(result) : result;
    }

    /// <summary>This tensor broadcast to <paramref name="shape"/> by NumPy's rules (a view).</summary>
    public Tensor BroadcastTo(Shape shape) => Expand(shape.ToArray());

    /// <summary>
    /// Sums over the dimensions in which this tensor is larger than <paramref name="shape"/> so that the result has
    /// that shape: the adjoint of broadcasting, used by the backward of every broadcasting op.
    /// </summary>
    public Tensor SumToSize(Shape shape)
    {
        if (shape == Shape) return this;
        // Validate that shape broadcasts to this tensor's shape.
        if (Shape.Broadcast(shape, Shape, "sum_to_size") != Shape)
            throw new ArgumentException($"sum_to_size: shape {Shape} cannot be summed to {shape}");
        if (!DType.IsFloatingPoint()) throw new NotSupportedException($"sum_to_size: dtype {DType.Name()} is not supported");
        var result = Zeros(shape, DType);
        var target = result.Expand(Shape.ToArray()); // the result seen with stride 0 on the summed dimensions
        var src = Contiguous();
        if (DType == DType.Float32) AccumulateBroadcast<float>(src, target);
        else AccumulateBroadcast<double>(src, target);
        return GradMode.ShouldRecord(this) ? new SumToSizeBackward(this).Attach(result) : result;
    }

    // destination[broadcast index] += source[index] for every element of the contiguous source.
    private static void AccumulateBroadcast<T>(Tensor source, Tensor expandedDestination) where T : unmanaged, INumber<T>
    {
        var src = source.Data<T>();
        var dst = expandedDestination.Array<T>();
        var dims = expandedDestination.Shape.Dims;
        var strides = expandedDestination.Strides;
        if (dims.Length == 0)
        {
            dst[expandedDestination.Offset] += src[0];
            return;
        }
        int inner = dims[^1], innerStride = strides[^1];
        var offsets = new int[StridedKernels.RowCount(dims)];
        StridedKernels.RowOffsets(expandedDestination.Offset, dims, strides, offsets);
        for (int r = 0; r < offsets.Length; r++)
        {
            var row = src.Slice(r * inner, inner);
            if (innerStride == 1)
            {
                var d = dst.AsSpan(offsets[r], inner);
                TensorPrimitives.Add(d, row, d);
            }
            else
            {
                dst[offsets[r]] += TensorPrimitives.Sum(row);
            }
        }
    }

    private sealed class ReshapeBackward(Tensor input) : BackwardNode("reshape", input)
    {
        private readonly Shape _shape = input.Shape;

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.Reshape(_shape.ToArray())];
    }

    private sealed class PermuteBackward(Tensor input, int[] inverse) : BackwardNode("permute", input)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.Permute(inverse)];
    }

    private sealed class SliceBackward(Tensor input, int axis, int start, int step, int? selectIndex)
        : BackwardNode(selectIndex is null ? "slice" : "select", input)
    {
        private readonly Shape _shape = input.Shape;
        private readonly DType _dtype = input.DType;

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var grad = Zeros(_shape, _dtype);
            var window = selectIndex is int i
                ? grad.Select(axis, i)
                : grad.Slice(axis, start, start + (gradOutput.Shape[axis] - 1) * step + 1, step);
            window.CopyFrom(gradOutput);
            return [grad];
        }
    }

    private sealed class ExpandBackward(Tensor input) : BackwardNode("expand", input)
    {
        private readonly Shape _shape = input.Shape;

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.SumToSize(_shape)];
    }

    private sealed class SumToSizeBackward(Tensor input) : BackwardNode("sum_to_size", input)
    {
        private readonly Shape _shape = input.Shape;

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.Expand(_shape.ToArray()).Contiguous()];
    }
}
