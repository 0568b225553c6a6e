namespace Loom;

// Indexing with index tensors and boolean masks, triangles and flips. Writing i for a position and i⟨a←v⟩ for i with
// its coordinate on axis a replaced by v:
//   index_select(x, a, idx):   y[i] = x[i⟨a←idx[i_a]⟩]         dx = zeros, then dx[i⟨a←idx[i_a]⟩] += dy[i]   (index-add)
//   index_add(x, a, idx, s):   y = x; y[i⟨a←idx[i_a]⟩] += s[i]  dx = dy,  ds = index_select(dy, a, idx)
//   gather(x, a, idx):         y[i] = x[i⟨a←idx[i]⟩]           dx = zeros, then dx[i⟨a←idx[i]⟩] += dy[i]     (scatter-add)
//   scatter_add(x, a, idx, s): y = x; y[i⟨a←idx[i]⟩] += s[i]   dx = dy,  ds = gather(dy, a, idx)
//   masked_select(x, m):       y = the x[i] with m[i], in order dx = zeros with dy written back at those i (summed over broadcasting)
//   masked_scatter(x, m, s):   y = x with the m[i] taken from s in order   dx = masked_fill(dy, m, 0), ds = masked_select(dy, m)
//   masked_fill(x, m, v):      y[i] = m[i] ? v : x[i]           dx = masked_fill(dy, m, 0)
//   tril/triu(x, k):           keeps c − r ≤ k (tril) or c − r ≥ k (triu) on the last two axes, zeroes the rest; dx = tril/triu(dy, k)
//   flip(x, axes):             y[i] = x[i reversed on axes]    dx = flip(dy, axes)
// Repeated indices accumulate in every backward (scatter-add, never scatter), so a row used twice gets both gradients.
public partial class Tensor
{
    /// <summary>
    /// The slices at positions <paramref name="index"/> along <paramref name="axis"/> (like <c>torch.index_select</c>):
    /// the result has this shape with that dimension replaced by the index's length. The index is a 1-D (or scalar)
    /// Int32 or Int64 tensor; positions may repeat and must lie in [0, size).
    /// </summary>
    public Tensor IndexSelect(int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        RequireIndexDType(index, "index_select");
        if (Rank == 0) throw new ArgumentException($"index_select: needs a tensor of rank 1 or more, got shape {Shape}");
        int a = Shape.NormalizeAxis(axis, "index_select");
        if (index.Rank > 1)
            throw new ArgumentException($"index_select: index must be 1-D, got shape {index.Shape} (input shape {Shape}, axis {axis})");
        var (outer, axisSize, inner) = OuterSizeInner(Shape, a);
        var dims = Shape.ToArray();
        dims[a] = index.Numel;
        var result = Empty(Shape.Wrap(dims), DType);
        var idx = ArrayPool<int>.Shared.Rent(index.Numel);
        try
        {
            var positions = idx.AsSpan(0, index.Numel);
            ReadIndex(index, Shape, a, "index_select", positions);
            var src = ContiguousValues();
            switch (DType)
            {
                case DType.Float32: IndexingKernels.IndexSelect(src.Data<float>(), positions, outer, axisSize, inner, result.Data<float>()); break;
                case DType.Float64: IndexingKernels.IndexSelect(src.Data<double>(), positions, outer, axisSize, inner, result.Data<double>()); break;
                case DType.Int32: IndexingKernels.IndexSelect(src.Data<int>(), positions, outer, axisSize, inner, result.Data<int>()); break;
                case DType.Int64: IndexingKernels.IndexSelect(src.Data<long>(), positions, outer, axisSize, inner, result.Data<long>()); break;
                case DType.UInt8: IndexingKernels.IndexSelect(src.Data<byte>(), positions, outer, axisSize, inner, result.Data<byte>()); break;
                case DType.Int8: IndexingKernels.IndexSelect(src.Data<sbyte>(), positions, outer, axisSize, inner, result.Data<sbyte>()); break;
                case DType.Bool: IndexingKernels.IndexSelect(src.Data<bool>(), positions, outer, axisSize, inner, result.Data<bool>()); break;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(idx);
        }
        return GradMode.ShouldRecord(this) ? new IndexSelectBackward(this, a, index).Attach(result) : result;
    }

    /// <summary>
    /// A copy of this tensor with the slices of <paramref name="source"/> added at positions <paramref name="index"/>
    /// along <paramref name="axis"/> (like <c>torch.index_add</c>): <c>y[…, index[j], …] += source[…, j, …]</c>.
    /// Repeated positions accumulate. The source has this shape with that dimension replaced by the index's length.
    /// Gradients flow to both this tensor and <paramref name="source"/>.
    /// </summary>
    public Tensor IndexAdd(int axis, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        RequireIndexDType(index, "index_add");
        if (Rank == 0) throw new ArgumentException($"index_add: needs a tensor of rank 1 or more, got shape {Shape}");
        int a = Shape.NormalizeAxis(axis, "index_add");
        if (index.Rank > 1)
            throw new ArgumentException($"index_add: index must be 1-D, got shape {index.Shape} (input shape {Shape}, axis {axis})");
        var expected = Shape.ToArray();
        expected[a] = index.Numel;
        if (source.Shape != Shape.Wrap(expected))
            throw new ArgumentException($"index_add: source of shape {source.Shape} does not fit the input of shape {Shape} with an index of {index.Numel} positions along axis {axis} (expected {Shape.Format(expected)})");
        if (source.DType != DType)
            throw new ArgumentException($"index_add: source has dtype {source.DType.Name()}, the tensor has {DType.Name()}");
        if (DType is not (DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64))
            throw new NotSupportedException($"index_add: dtype {DType.Name()} is not supported (float32, float64, int32 and int64 are)");
        var (outer, axisSize, inner) = OuterSizeInner(Shape, a);
        var result = Detach().Clone();
        var src = source.ContiguousValues();
        var idx = ArrayPool<int>.Shared.Rent(index.Numel);
        try
        {
            var positions = idx.AsSpan(0, index.Numel);
            ReadIndex(index, Shape, a, "index_add", positions);
            switch (DType)
            {
                case DType.Float32: IndexingKernels.IndexAdd(src.Data<float>(), positions, outer, axisSize, inner, result.Data<float>()); break;
                case DType.Float64: IndexingKernels.IndexAdd(src.Data<double>(), positions, outer, axisSize, inner, result.Data<double>()); break;
                case DType.Int32: IndexingKernels.IndexAdd(src.Data<int>(), positions, outer, axisSize, inner, result.Data<int>()); break;
                case DType.Int64: IndexingKernels.IndexAdd(src.Data<long>(), positions, outer, axisSize, inner, result.Data<long>()); break;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(idx);
        }
        return GradMode.ShouldRecord(this, source) ? new IndexAddBackward(this, source, a, index).Attach(result) : result;
    }

    /// <summary>
    /// Picks along <paramref name="axis"/> with a position per output element (like <c>torch.gather</c>):
    /// <c>y[i][j][k] = x[i][index[i][j][k]][k]</c> for axis 1. The index has this tensor's rank and is no larger in
    /// any other dimension; the result has the index's shape.
    /// </summary>
    public Tensor Gather(int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        RequireIndexDType(index, "gather");
        int a = CheckIndexFits("gather", axis, index, source: null);
        var result = Empty(index.Shape, DType);
        using (var plan = new AxisIndexPlan(this, a, index, "gather"))
        {
            switch (DType)
            {
                case DType.Float32: IndexingKernels.Gather(Array<float>(), plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, plan.Index, result.Data<float>()); break;
                case DType.Float64: IndexingKernels.Gather(Array<double>(), plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, plan.Index, result.Data<double>()); break;
                case DType.Int32: IndexingKernels.Gather(Array<int>(), plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, plan.Index, result.Data<int>()); break;
                case DType.Int64: IndexingKernels.Gather(Array<long>(), plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, plan.Index, result.Data<long>()); break;
                case DType.UInt8: IndexingKernels.Gather(Array<byte>(), plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, plan.Index, result.Data<byte>()); break;
                case DType.Int8: IndexingKernels.Gather(Array<sbyte>(), plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, plan.Index, result.Data<sbyte>()); break;
                case DType.Bool: IndexingKernels.Gather(Array<bool>(), plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, plan.Index, result.Data<bool>()); break;
            }
        }
        return GradMode.ShouldRecord(this) ? new GatherBackward(this, a, index).Attach(result) : result;
    }

    /// <summary>
    /// A copy of this tensor with <paramref name="source"/> added at the positions <paramref name="index"/> gives
    /// along <paramref name="axis"/> (like <c>torch.scatter_add</c>): <c>y[i][index[i][j][k]][k] += source[i][j][k]</c>
    /// for axis 1. Repeated positions accumulate. The index has this tensor's rank, is no larger than
    /// <paramref name="source"/> in any dimension and no larger than this tensor except along the axis.
    /// Gradients flow to both this tensor and <paramref name="source"/>.
    /// </summary>
    public Tensor ScatterAdd(int axis, Tensor index, Tensor source)
    {
        int a = CheckScatterAdd("scatter_add", axis, index, source);
        var result = Detach().Clone();
        ScatterAddInto(result, a, index, source.NarrowTo(index.Shape), "scatter_add");
        return GradMode.ShouldRecord(this, source) ? new ScatterAddBackward(this, source, a, index).Attach(result) : result;
    }

    /// <summary>
    /// In-place <see cref="ScatterAdd"/>: adds <paramref name="source"/> into this tensor (which may be a strided view)
    /// and returns it. Autograd cannot follow it: it fails on tensors that are part of a graph or on a source that
    /// requires grad while grad mode is on.
    /// </summary>
    public Tensor ScatterAddInPlace(int axis, Tensor index, Tensor source)
    {
        int a = CheckScatterAdd("scatter_add_", axis, index, source);
        if (GradMode.IsEnabled && source.RequiresGrad)
            throw new InvalidOperationException($"scatter_add_: the source (shape {source.Shape}) requires grad, but an in-place op records no gradient for it; use ScatterAdd");
        for (int d = 0; d < Rank; d++)
            if (_strides[d] == 0 && Shape[d] > 1)
                throw new InvalidOperationException($"scatter_add_: cannot write into a broadcast tensor of shape {Shape} (dimension {d} has stride 0); Clone() it first");
        MarkModifiedInPlace("scatter_add_");
        ScatterAddInto(this, a, index, source.NarrowTo(index.Shape), "scatter_add_");
        return this;
    }

    /// <summary>
    /// The elements where <paramref name="mask"/> is true, in row-major order, as a 1-D tensor (like
    /// <c>torch.masked_select</c>). The Bool mask and this tensor broadcast to a common shape.
    /// </summary>
    public Tensor MaskedSelect(Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        RequireMask(mask, "masked_select");
        var shape = Shape.Broadcast(Shape, mask.Shape, "masked_select");
        var values = (shape == Shape ? this : Detach().Expand(shape.ToArray())).ContiguousValues();
        var selected = mask.ExpandedMask(shape).Data<bool>();
        var result = Empty(new Shape(IndexingKernels.CountTrue(selected)), DType);
        switch (DType)
        {
            case DType.Float32: IndexingKernels.MaskedSelect(values.Data<float>(), selected, result.Data<float>()); break;
            case DType.Float64: IndexingKernels.MaskedSelect(values.Data<double>(), selected, result.Data<double>()); break;
            case DType.Int32: IndexingKernels.MaskedSelect(values.Data<int>(), selected, result.Data<int>()); break;
            case DType.Int64: IndexingKernels.MaskedSelect(values.Data<long>(), selected, result.Data<long>()); break;
            case DType.UInt8: IndexingKernels.MaskedSelect(values.Data<byte>(), selected, result.Data<byte>()); break;
            case DType.Int8: IndexingKernels.MaskedSelect(values.Data<sbyte>(), selected, result.Data<sbyte>()); break;
            case DType.Bool: IndexingKernels.MaskedSelect(values.Data<bool>(), selected, result.Data<bool>()); break;
        }
        return GradMode.ShouldRecord(this) ? new MaskedSelectBackward(this, mask, shape).Attach(result) : result;
    }

    /// <summary>
    /// A copy of this tensor whose elements where <paramref name="mask"/> is true are replaced, in row-major order, by
    /// consecutive elements of <paramref name="source"/> (like <c>torch.masked_scatter</c>). The mask broadcasts to
    /// this tensor's shape; the source needs at least as many elements as the mask selects.
    /// </summary>
    public Tensor MaskedScatter(Tensor mask, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(source);
        RequireMask(mask, "masked_scatter");
        if (source.DType != DType)
            throw new ArgumentException($"masked_scatter: source has dtype {source.DType.Name()}, the tensor has {DType.Name()}");
        RequireMaskBroadcasts(mask, "masked_scatter");
        var selected = mask.ExpandedMask(Shape).Data<bool>();
        int count = IndexingKernels.CountTrue(selected);
        if (source.Numel < count)
            throw new ArgumentException($"masked_scatter: the mask (shape {mask.Shape}) selects {count} elements of the tensor (shape {Shape}), but the source (shape {source.Shape}) has only {source.Numel}");
        var result = Detach().Clone();
        var values = source.ContiguousValues();
        switch (DType)
        {
            case DType.Float32: IndexingKernels.MaskedScatter(values.Data<float>(), selected, result.Data<float>()); break;
            case DType.Float64: IndexingKernels.MaskedScatter(values.Data<double>(), selected, result.Data<double>()); break;
            case DType.Int32: IndexingKernels.MaskedScatter(values.Data<int>(), selected, result.Data<int>()); break;
            case DType.Int64: IndexingKernels.MaskedScatter(values.Data<long>(), selected, result.Data<long>()); break;
            case DType.UInt8: IndexingKernels.MaskedScatter(values.Data<byte>(), selected, result.Data<byte>()); break;
            case DType.Int8: IndexingKernels.MaskedScatter(values.Data<sbyte>(), selected, result.Data<sbyte>()); break;
            case DType.Bool: IndexingKernels.MaskedScatter(values.Data<bool>(), selected, result.Data<bool>()); break;
        }
        return GradMode.ShouldRecord(this, source) ? new MaskedScatterBackward(this, mask, source, count).Attach(result) : result;
    }

    /// <summary>
    /// A copy of this tensor with <paramref name="value"/> wherever <paramref name="mask"/> is true (like
    /// <c>torch.masked_fill</c>); the Bool mask broadcasts to this tensor's shape. Causal attention uses
    /// <c>scores.MaskedFill(future, double.NegativeInfinity)</c> with a [T, T] mask over [B, H, T, T] scores.
    /// </summary>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        ArgumentNullException.ThrowIfNull(mask);
        RequireMask(mask, "masked_fill");
        RequireMaskBroadcasts(mask, "masked_fill");
        if (!DType.IsFloatingPoint() && DType != DType.Bool && value != Math.Floor(value))
            throw new ArgumentException($"masked_fill: value {value} cannot be stored in a {DType.Name()} tensor");
        var pattern = mask.MaskPattern(Shape).Data<bool>();
        var src = ContiguousValues();
        var result = Empty(Shape, DType);
        switch (DType)
        {
            case DType.Float32: IndexingKernels.MaskedFill(src.Data<float>(), pattern, (float)value, result.Data<float>()); break;
            case DType.Float64: IndexingKernels.MaskedFill(src.Data<double>(), pattern, value, result.Data<double>()); break;
            case DType.Int32: IndexingKernels.MaskedFill(src.Data<int>(), pattern, checked((int)value), result.Data<int>()); break;
            case DType.Int64: IndexingKernels.MaskedFill(src.Data<long>(), pattern, checked((long)value), result.Data<long>()); break;
            case DType.UInt8: IndexingKernels.MaskedFill(src.Data<byte>(), pattern, checked((byte)value), result.Data<byte>()); break;
            case DType.Int8: IndexingKernels.MaskedFill(src.Data<sbyte>(), pattern, checked((sbyte)value), result.Data<sbyte>()); break;
            case DType.Bool: IndexingKernels.MaskedFill(src.Data<bool>(), pattern, value != 0, result.Data<bool>()); break;
        }
        return GradMode.ShouldRecord(this) ? new MaskedFillBackward(this, mask).Attach(result) : result;
    }

    /// <summary>
    /// The coordinates of the non-zero elements (true, for Bool; NaN counts as non-zero) as an Int64 tensor of shape
    /// [count, rank], in row-major order (like <c>torch.nonzero</c>).
    /// </summary>
    public Tensor Nonzero()
    {
        var src = ContiguousValues();
        int count = DType switch
        {
            DType.Float32 => IndexingKernels.CountNonzero<float>(src.Data<float>()),
            DType.Float64 => IndexingKernels.CountNonzero<double>(src.Data<double>()),
            DType.Int32 => IndexingKernels.CountNonzero<int>(src.Data<int>()),
            DType.Int64 => IndexingKernels.CountNonzero<long>(src.Data<long>()),
            DType.UInt8 => IndexingKernels.CountNonzero<byte>(src.Data<byte>()),
            DType.Int8 => IndexingKernels.CountNonzero<sbyte>(src.Data<sbyte>()),
            DType.Bool => IndexingKernels.CountTrue(src.Data<bool>()),
            _ => throw new NotSupportedException($"nonzero: dtype {DType.Name()} is not supported"),
        };
        var result = Empty(new Shape(count, Rank), DType.Int64);
        var coordinates = result.Data<long>();
        switch (DType)
        {
            case DType.Float32: IndexingKernels.Nonzero<float>(src.Data<float>(), Shape.Dims, coordinates); break;
            case DType.Float64: IndexingKernels.Nonzero<double>(src.Data<double>(), Shape.Dims, coordinates); break;
            case DType.Int32: IndexingKernels.Nonzero<int>(src.Data<int>(), Shape.Dims, coordinates); break;
            case DType.Int64: IndexingKernels.Nonzero<long>(src.Data<long>(), Shape.Dims, coordinates); break;
            case DType.UInt8: IndexingKernels.Nonzero<byte>(src.Data<byte>(), Shape.Dims, coordinates); break;
            case DType.Int8: IndexingKernels.Nonzero<sbyte>(src.Data<sbyte>(), Shape.Dims, coordinates); break;
            case DType.Bool: IndexingKernels.Nonzero<bool>(src.Data<bool>(), Shape.Dims, coordinates); break;
        }
        return result;
    }

    /// <summary>
    /// The lower triangle of the last two dimensions: element (r, c) is kept when c − r ≤ <paramref name="diagonal"/>,
    /// else zero (like <c>torch.tril</c>). <c>Tensor.Ones(new Shape(t, t)).Tril()</c> is a causal mask's complement.
    /// </summary>
    public Tensor Tril(int diagonal = 0) => Triangle(diagonal, upper: false);

    /// <summary>The upper triangle of the last two dimensions: (r, c) is kept when c − r ≥ <paramref name="diagonal"/> (like <c>torch.triu</c>).</summary>
    public Tensor Triu(int diagonal = 0) => Triangle(diagonal, upper: true);

    private Tensor Triangle(int diagonal, bool upper)
    {
        string op = upper ? "triu" : "tril";
        if (Rank < 2) throw new ArgumentException($"{op}: needs a tensor of rank 2 or more (matrices in the last two dimensions), got shape {Shape}");
        int rows = Shape[Rank - 2], cols = Shape[Rank - 1];
        int batch = rows * cols == 0 ? 0 : Numel / (rows * cols);
        var src = ContiguousValues();
        var result = Empty(Shape, DType);
        switch (DType)
        {
            case DType.Float32: IndexingKernels.Triangle(src.Data<float>(), batch, rows, cols, diagonal, upper, result.Data<float>()); break;
            case DType.Float64: IndexingKernels.Triangle(src.Data<double>(), batch, rows, cols, diagonal, upper, result.Data<double>()); break;
            case DType.Int32: IndexingKernels.Triangle(src.Data<int>(), batch, rows, cols, diagonal, upper, result.Data<int>()); break;
            case DType.Int64: IndexingKernels.Triangle(src.Data<long>(), batch, rows, cols, diagonal, upper, result.Data<long>()); break;
            case DType.UInt8: IndexingKernels.Triangle(src.Data<byte>(), batch, rows, cols, diagonal, upper, result.Data<byte>()); break;
            case DType.Int8: IndexingKernels.Triangle(src.Data<sbyte>(), batch, rows, cols, diagonal, upper, result.Data<sbyte>()); break;
            case DType.Bool: IndexingKernels.Triangle(src.Data<bool>(), batch, rows, cols, diagonal, upper, result.Data<bool>()); break;
        }
        return GradMode.ShouldRecord(this) ? new TriangleBackward(this, diagonal, upper).Attach(result) : result;
    }

    /// <summary>A copy with the order of elements reversed along each of <paramref name="axes"/> (like <c>torch.flip</c>).</summary>
    public Tensor Flip(params int[] axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        // Reading through a view with negated strides, starting at the last element of each flipped axis, is the
        // flip; one strided gather writes it.
        var strides = (int[])_strides.Clone();
        var normalized = new int[axes.Length];
        var seen = new bool[Math.Max(Rank, 1)];
        int offset = Offset;
        for (int i = 0; i < axes.Length; i++)
        {
            int a = Shape.NormalizeAxis(axes[i], "flip");
            if (seen[a]) throw new ArgumentException($"flip: axis {axes[i]} repeats in {Shape.Format(axes)} (shape {Shape})");
            seen[a] = true;
            normalized[i] = a;
            if (Rank == 0) continue;
            if (Shape[a] > 0) offset += (Shape[a] - 1) * strides[a];
            strides[a] = -strides[a];
        }
        var result = Empty(Shape, DType);
        GatherStrided(this, Numel == 0 ? Offset : offset, Shape.ToArray(), strides, result);
        return GradMode.ShouldRecord(this) ? new FlipBackward(this, normalized).Attach(result) : result;
    }

    // ------------------------------------------------------------------ shared checks and helpers

    private static void RequireIndexDType(Tensor index, string op)
    {
        if (index.DType is not (DType.Int32 or DType.Int64))
            throw new ArgumentException($"{op}: index must be int32 or int64, got {index.DType.Name()} (index shape {index.Shape})");
    }

    private static void RequireMask(Tensor mask, string op)
    {
        if (mask.DType != DType.Bool)
            throw new ArgumentException($"{op}: mask must be bool, got {mask.DType.Name()} (mask shape {mask.Shape}); compare to make one, or convert with To(DType.Bool)");
    }

    private void RequireMaskBroadcasts(Tensor mask, string op)
    {
        if (mask.Rank > Rank || Shape.Broadcast(Shape, mask.Shape, op) != Shape)
            throw new ArgumentException($"{op}: mask of shape {mask.Shape} does not broadcast to the tensor's shape {Shape}");
    }

    /// <summary>This mask broadcast to <paramref name="shape"/>, materialised contiguously.</summary>
    private Tensor ExpandedMask(Shape shape) => (Shape == shape ? this : Expand(shape.ToArray())).ContiguousValues();

    /// <summary>
    /// A contiguous mask whose repetition covers <paramref name="shape"/>: the mask itself when it only lacks leading
    /// dimensions (or has them as 1), else the mask expanded to the full shape. A pattern of a few elements is
    /// expanded too, since the kernel works one pattern at a time.
    /// </summary>
    private Tensor MaskPattern(Shape shape)
    {
        int lead = shape.Rank - Rank, d = shape.Rank - 1;
        while (d >= lead && Shape[d - lead] == shape[d]) d--;
        for (int e = d; e >= lead; e--)
            if (Shape[e - lead] != 1) return ExpandedMask(shape);
        return Numel < 64 && shape.Numel > Numel ? ExpandedMask(shape) : ContiguousValues();
    }

    /// <summary>(outer, size, inner): the product of the dimensions before <paramref name="axis"/>, its size, the product after it.</summary>
    private static (int Outer, int Size, int Inner) OuterSizeInner(Shape shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Rank; d++) inner *= shape[d];
        return (outer, shape.Rank == 0 ? 1 : shape[axis], inner);
    }

    /// <summary>Validates index values against the size of <paramref name="axis"/> of <paramref name="shape"/> and writes them, row-major, as ints.</summary>
    private static void ReadIndex(Tensor index, Shape shape, int axis, string op, Span<int> destination)
    {
        int size = shape[axis];
        var dense = index.ContiguousValues();
        if (index.DType == DType.Int64)
        {
            var src = dense.Data<long>();
            for (int i = 0; i < src.Length; i++)
            {
                if ((ulong)src[i] >= (ulong)size) throw IndexOutOfRange(op, src[i], axis, size, shape);
                destination[i] = (int)src[i];
            }
        }
        else
        {
            var src = dense.Data<int>();
            for (int i = 0; i < src.Length; i++)
            {
                if ((uint)src[i] >= (uint)size) throw IndexOutOfRange(op, src[i], axis, size, shape);
                destination[i] = src[i];
            }
        }
    }

    private static ArgumentException IndexOutOfRange(string op, long value, int axis, int size, Shape shape) =>
        new($"{op}: index {value} is out of range for axis {axis} of size {size} (shape {shape})");

    /// <summary>
    /// Checks a gather/scatter index against this tensor (and the scatter source): same rank, and no larger than
    /// this tensor outside <paramref name="axis"/> nor than the source anywhere. Returns the normalised axis.
    /// </summary>
    private int CheckIndexFits(string op, int axis, Tensor index, Tensor? source)
    {
        if (Rank == 0) throw new ArgumentException($"{op}: needs a tensor of rank 1 or more, got shape {Shape}");
        int a = Shape.NormalizeAxis(axis, op);
        string shapes = source is null
            ? $"index shape {index.Shape}, input shape {Shape}"
            : $"index shape {index.Shape}, input shape {Shape}, source shape {source.Shape}";
        if (index.Rank != Rank || (source is not null && source.Rank != Rank))
            throw new ArgumentException($"{op}: the index must have the input's rank ({shapes})");
        for (int d = 0; d < Rank; d++)
        {
            if (d != a && index.Shape[d] > Shape[d])
                throw new ArgumentException($"{op}: the index is larger than the input in dimension {d} ({shapes}, axis {axis})");
            if (source is not null && index.Shape[d] > source.Shape[d])
                throw new ArgumentException($"{op}: the index is larger than the source in dimension {d} ({shapes}, axis {axis})");
        }
        return a;
    }

    private int CheckScatterAdd(string op, int axis, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        RequireIndexDType(index, op);
        if (source.DType != DType)
            throw new ArgumentException($"{op}: source has dtype {source.DType.Name()}, the tensor has {DType.Name()}");
        if (DType is not (DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64))
            throw new NotSupportedException($"{op}: dtype {DType.Name()} is not supported (float32, float64, int32 and int64 are)");
        return CheckIndexFits(op, axis, index, source);
    }

    /// <summary>The leading corner of this tensor with <paramref name="shape"/>'s sizes, detached and contiguous, ready for a kernel.</summary>
    private Tensor NarrowTo(Shape shape)
    {
        var t = Detach();
        for (int d = 0; d < Rank; d++)
            if (t.Shape[d] != shape[d]) t = t.Narrow(d, 0, shape[d]);
        return t.ContiguousValues();
    }

    /// <summary>destination[i⟨a←index[i]⟩] += source[i] over the index's positions; source is contiguous with the index's shape.</summary>
    private static void ScatterAddInto(Tensor destination, int axis, Tensor index, Tensor source, string op)
    {
        using var plan = new AxisIndexPlan(destination, axis, index, op);
        switch (destination.DType)
        {
            case DType.Float32: IndexingKernels.ScatterAdd<float>(source.Data<float>(), plan.Index, plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, destination.Array<float>()); break;
            case DType.Float64: IndexingKernels.ScatterAdd<double>(source.Data<double>(), plan.Index, plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, destination.Array<double>()); break;
            case DType.Int32: IndexingKernels.ScatterAdd<int>(source.Data<int>(), plan.Index, plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, destination.Array<int>()); break;
            case DType.Int64: IndexingKernels.ScatterAdd<long>(source.Data<long>(), plan.Index, plan.OuterOffsets, plan.AxisStride, plan.InnerOffsets, destination.Array<long>()); break;
            default: throw new NotSupportedException($"{op}: dtype {destination.DType.Name()} is not supported");
        }
    }

    /// <summary>
    /// An index along one axis seen as (outer, n, inner), with the storage offsets of a target tensor (any strides)
    /// for each outer and inner position: the bookkeeping that gather and scatter share. Index values are validated
    /// against the target. The arrays are pooled; Dispose returns them.
    /// </summary>
    private readonly struct AxisIndexPlan : IDisposable
    {
        private readonly int[] _index, _outer, _inner;
        private readonly int _indexCount, _outerCount, _innerCount;

        public AxisIndexPlan(Tensor target, int axis, Tensor index, string op)
        {
            _indexCount = index.Numel;
            _index = ArrayPool<int>.Shared.Rent(_indexCount);
            ReadIndex(index, target.Shape, axis, op, _index.AsSpan(0, _indexCount));
            var dims = index.Shape.Dims;
            var strides = target.Strides;
            _outer = RentOffsets(dims[..axis], strides[..axis], target.Offset, out _outerCount);
            _inner = RentOffsets(dims[(axis + 1)..], strides[(axis + 1)..], 0, out _innerCount);
            AxisStride = strides[axis];
        }

        public ReadOnlySpan<int> Index => _index.AsSpan(0, _indexCount);

        public ReadOnlySpan<int> OuterOffsets => _outer.AsSpan(0, _outerCount);

        public ReadOnlySpan<int> InnerOffsets => _inner.AsSpan(0, _innerCount);

        public int AxisStride { get; }

        public void Dispose()
        {
            ArrayPool<int>.Shared.Return(_index);
            ArrayPool<int>.Shared.Return(_outer);
            ArrayPool<int>.Shared.Return(_inner);
        }

        // Storage offsets, row-major, of every position of a block of `dims` laid out with `strides`, from `start`.
        private static int[] RentOffsets(ReadOnlySpan<int> dims, ReadOnlySpan<int> strides, int start, out int count)
        {
            count = 1;
            foreach (var d in dims) count *= d;
            var offsets = ArrayPool<int>.Shared.Rent(count);
            StridedKernels.Offsets(dims, strides, start, offsets);
            return offsets;
        }
    }

    // ------------------------------------------------------------------ backward nodes

    private sealed class IndexSelectBackward : BackwardNode
    {
        private readonly Shape _shape;
        private readonly DType _dtype;
        private readonly int _axis;
        private readonly SavedTensor _index;

        public IndexSelectBackward(Tensor input, int axis, Tensor index) : base("index_select", input)
        {
            _shape = input.Shape;
            _dtype = input.DType;
            _axis = axis;
            _index = Save(index);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var index = _index.Value;
            var grad = Zeros(_shape, _dtype);
            var (outer, axisSize, inner) = OuterSizeInner(_shape, _axis);
            var g = gradOutput.Contiguous();
            var idx = ArrayPool<int>.Shared.Rent(index.Numel);
            try
            {
                var positions = idx.AsSpan(0, index.Numel);
                ReadIndex(index, _shape, _axis, "index_select", positions);
                if (_dtype == DType.Float32) IndexingKernels.IndexAdd(g.Data<float>(), positions, outer, axisSize, inner, grad.Data<float>());
                else IndexingKernels.IndexAdd(g.Data<double>(), positions, outer, axisSize, inner, grad.Data<double>());
            }
            finally
            {
                ArrayPool<int>.Shared.Return(idx);
            }
            return [grad];
        }
    }

    private sealed class IndexAddBackward : BackwardNode
    {
        private readonly int _axis;
        private readonly SavedTensor? _index;

        public IndexAddBackward(Tensor input, Tensor source, int axis, Tensor index) : base("index_add", input, source)
        {
            _axis = axis;
            if (NeedsGrad(1)) _index = Save(index);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput) =>
            [NeedsGrad(0) ? gradOutput : null, NeedsGrad(1) ? gradOutput.IndexSelect(_axis, _index!.Value) : null];
    }

    private sealed class GatherBackward : BackwardNode
    {
        private readonly Shape _shape;
        private readonly DType _dtype;
        private readonly int _axis;
        private readonly SavedTensor _index;

        public GatherBackward(Tensor input, int axis, Tensor index) : base("gather", input)
        {
            _shape = input.Shape;
            _dtype = input.DType;
            _axis = axis;
            _index = Save(index);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var grad = Zeros(_shape, _dtype);
            ScatterAddInto(grad, _axis, _index.Value, gradOutput.Contiguous(), "gather");
            return [grad];
        }
    }

    private sealed class ScatterAddBackward : BackwardNode
    {
        private readonly Shape _sourceShape;
        private readonly int _axis;
        private readonly SavedTensor? _index;

        public ScatterAddBackward(Tensor input, Tensor source, int axis, Tensor index) : base("scatter_add", input, source)
        {
            _sourceShape = source.Shape;
            _axis = axis;
            if (NeedsGrad(1)) _index = Save(index);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            Tensor? gradSource = null;
            if (NeedsGrad(1))
            {
                var picked = gradOutput.Gather(_axis, _index!.Value);
                if (picked.Shape == _sourceShape) gradSource = picked;
                else
                {
                    // Source positions beyond the index's extent were never added anywhere: their gradient is zero.
                    gradSource = Zeros(_sourceShape, gradOutput.DType);
                    var corner = gradSource;
                    for (int d = 0; d < picked.Rank; d++) corner = corner.Narrow(d, 0, picked.Shape[d]);
                    corner.CopyFrom(picked);
                }
            }
            return [NeedsGrad(0) ? gradOutput : null, gradSource];
        }
    }

    private sealed class MaskedSelectBackward : BackwardNode
    {
        private readonly Shape _shape, _broadcastShape;
        private readonly SavedTensor _mask;

        public MaskedSelectBackward(Tensor input, Tensor mask, Shape broadcastShape) : base("masked_select", input)
        {
            _shape = input.Shape;
            _broadcastShape = broadcastShape;
            _mask = Save(mask);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var grad = Zeros(_broadcastShape, gradOutput.DType);
            var selected = _mask.Value.ExpandedMask(_broadcastShape).Data<bool>();
            var g = gradOutput.Contiguous();
            if (grad.DType == DType.Float32) IndexingKernels.MaskedScatter(g.Data<float>(), selected, grad.Data<float>());
            else IndexingKernels.MaskedScatter(g.Data<double>(), selected, grad.Data<double>());
            return [grad.SumToSize(_shape)];
        }
    }

    private sealed class MaskedScatterBackward : BackwardNode
    {
        private readonly Shape _sourceShape;
        private readonly int _count;
        private readonly SavedTensor _mask;

        public MaskedScatterBackward(Tensor input, Tensor mask, Tensor source, int count) : base("masked_scatter", input, source)
        {
            _sourceShape = source.Shape;
            _count = count;
            _mask = Save(mask);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var mask = _mask.Value;
            Tensor? gradSource = null;
            if (NeedsGrad(1))
            {
                // The first `count` source elements went to the masked positions, in order; the rest went nowhere.
                gradSource = Zeros(new Shape(_sourceShape.Numel), gradOutput.DType);
                gradSource.Narrow(0, 0, _count).CopyFrom(gradOutput.MaskedSelect(mask));
                gradSource = gradSource.Reshape(_sourceShape.ToArray());
            }
            return [NeedsGrad(0) ? gradOutput.MaskedFill(mask, 0) : null, gradSource];
        }
    }

    private sealed class MaskedFillBackward : BackwardNode
    {
        private readonly SavedTensor _mask;

        public MaskedFillBackward(Tensor input, Tensor mask) : base("masked_fill", input) => _mask = Save(mask);

        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.MaskedFill(_mask.Value, 0)];
    }

    private sealed class TriangleBackward(Tensor input, int diagonal, bool upper) : BackwardNode(upper ? "triu" : "tril", input)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.Triangle(diagonal, upper)];
    }

    private sealed class FlipBackward(Tensor input, int[] axes) : BackwardNode("flip", input)
    {
        protected internal override Tensor?[] Apply(Tensor gradOutput) => [gradOutput.Flip(axes)];
    }
}
