using System.Text;

namespace Loom;

// Joining, splitting and tiling along axes.
//   cat(x₁…xₙ, a):    y = x₁ | x₂ | … | xₙ along a            dxᵢ = narrow(dy, a, offsetᵢ, sizeᵢ)
//   stack(x₁…xₙ, a):  y = cat(unsqueeze(xᵢ, a), a)            dxᵢ = select(dy, a, i)   (through cat and unsqueeze)
//   split, chunk:     yᵢ = narrow(x, a, offsetᵢ, sizeᵢ), views dx = each dyᵢ written at its offset of zeros (narrow's backward)
//   repeat(x, r):     y[i] = x[i mod x.shape]                   dx = dy summed over the r copies: view dy as
//                     [r₀, d₀, r₁, d₁, …] and sum the r axes away
public partial class Tensor
{
    /// <summary>
    /// Joins tensors along an existing <paramref name="axis"/> (like <c>torch.cat</c>). All tensors must have the
    /// same size in every other dimension; mixed dtypes promote (<see cref="TypePromotion.ResultType(IReadOnlyList{Tensor})"/>).
    /// </summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        RequireTensors(tensors, "cat");
        var dtype = TypePromotion.ResultType(tensors);
        if (tensors.Any(t => t.DType != dtype)) tensors = tensors.Select(t => t.To(dtype)).ToArray(); // To keeps float gradients flowing
        var first = tensors[0];
        if (first.Rank == 0)
            throw new ArgumentException("cat: zero-dimensional tensors cannot be concatenated; use Stack, or Unsqueeze(0) them first");
        int a = first.Shape.NormalizeAxis(axis, "cat");
        int total = 0;
        foreach (var t in tensors)
        {
            bool fits = t.Rank == first.Rank;
            for (int d = 0; fits && d < first.Rank; d++) fits = d == a || t.Shape[d] == first.Shape[d];
            if (!fits)
                throw new ArgumentException($"cat: shapes {FormatShapes(tensors)} must match in every dimension except axis {axis}");
            total += t.Shape[a];
        }

        var dims = first.Shape.ToArray();
        dims[a] = total;
        var result = Empty(Shape.Wrap(dims), first.DType);
        int outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= dims[d];
        for (int d = a + 1; d < dims.Length; d++) inner *= dims[d];
        int offset = 0;
        foreach (var t in tensors)
        {
            // Contiguous inputs move as whole blocks, one CopyTo per outer index; strided ones are made dense first.
            CopyBlocks(t.ContiguousValues(), outer, t.Shape[a] * inner, total * inner, offset * inner, result);
            offset += t.Shape[a];
        }
        return GradMode.ShouldRecord(tensors) ? new CatBackward(tensors, a).Attach(result) : result;
    }

    /// <summary>Joins tensors of one shape along a new <paramref name="axis"/> (like <c>torch.stack</c>); axis may be Rank.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        RequireTensors(tensors, "stack");
        var shape = tensors[0].Shape;
        foreach (var t in tensors)
            if (t.Shape != shape)
                throw new ArgumentException($"stack: expects tensors of one shape, got {FormatShapes(tensors)}");
        int a = axis < 0 ? axis + shape.Rank + 1 : axis;
        if (a < 0 || a > shape.Rank)
            throw new ArgumentException($"stack: axis {axis} is out of range for stacking tensors of shape {shape} (valid: {-shape.Rank - 1} to {shape.Rank})");
        var parts = new Tensor[tensors.Count];
        for (int i = 0; i < parts.Length; i++) parts[i] = tensors[i].Unsqueeze(a);
        return Cat(parts, a);
    }

    /// <summary>
    /// Views of consecutive pieces of <paramref name="splitSize"/> along <paramref name="axis"/>; the last piece is
    /// smaller when the size does not divide evenly (like <c>torch.split</c> with an int).
    /// </summary>
    public Tensor[] Split(int splitSize, int axis = 0)
    {
        int a = Shape.NormalizeAxis(axis, "split");
        int n = Shape[a];
        if (splitSize <= 0 && !(splitSize == 0 && n == 0))
            throw new ArgumentException($"split: split size must be positive, got {splitSize} for axis {axis} of shape {Shape}");
        if (n == 0) return [Narrow(a, 0, 0)];
        var pieces = new Tensor[(n + splitSize - 1) / splitSize];
        for (int i = 0; i < pieces.Length; i++)
            pieces[i] = Narrow(a, i * splitSize, Math.Min(splitSize, n - i * splitSize));
        return pieces;
    }

    /// <summary>Views of consecutive pieces with the given sizes along <paramref name="axis"/>, which must add up to its size.</summary>
    public Tensor[] Split(int[] sizes, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        int a = Shape.NormalizeAxis(axis, "split");
        long sum = 0;
        foreach (var s in sizes)
        {
            if (s < 0) throw new ArgumentException($"split: sizes {Shape.Format(sizes)} contain a negative size (shape {Shape}, axis {axis})");
            sum += s;
        }
        if (sum != Shape[a])
            throw new ArgumentException($"split: sizes {Shape.Format(sizes)} add up to {sum}, but axis {axis} of shape {Shape} has size {Shape[a]}");
        var pieces = new Tensor[sizes.Length];
        int offset = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            pieces[i] = Narrow(a, offset, sizes[i]);
            offset += sizes[i];
        }
        return pieces;
    }

    /// <summary>
    /// At most <paramref name="chunks"/> views of equal size ⌈n / chunks⌉ along <paramref name="axis"/>, the last
    /// possibly smaller. As <c>torch.chunk</c>, fewer pieces come back when the size does not allow that many
    /// (a size of 5 in 4 chunks gives pieces of 2, 2 and 1).
    /// </summary>
    public Tensor[] Chunk(int chunks, int axis = 0)
    {
        int a = Shape.NormalizeAxis(axis, "chunk");
        if (chunks <= 0) throw new ArgumentException($"chunk: number of chunks must be positive, got {chunks} (shape {Shape})");
        int n = Shape[a];
        return Split(Math.Max(1, (n + chunks - 1) / chunks), a);
    }

    /// <summary>
    /// Tiles the tensor <c>repeats[i]</c> times along each dimension (like <c>torch.Tensor.repeat</c>, a copy).
    /// Extra leading repeats add new leading dimensions.
    /// </summary>
    public Tensor Repeat(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        if (repeats.Length < Rank)
            throw new ArgumentException($"repeat: {repeats.Length} repeats {Shape.Format(repeats)} given for a tensor of shape {Shape}; need at least {Rank}");
        int lead = repeats.Length - Rank;
        // The result, seen as [r₀, d₀, r₁, d₁, …], is this tensor broadcast along the r axes (stride 0): one strided
        // gather of that view writes the whole result with no intermediate copy.
        var tiled = new int[2 * repeats.Length];
        var tiledStrides = new int[2 * repeats.Length];
        var dims = new int[repeats.Length];
        for (int i = 0; i < repeats.Length; i++)
        {
            if (repeats[i] < 0) throw new ArgumentException($"repeat: repeats {Shape.Format(repeats)} contain a negative count (shape {Shape})");
            int size = i < lead ? 1 : Shape[i - lead];
            tiled[2 * i] = repeats[i];
            tiled[2 * i + 1] = size;
            tiledStrides[2 * i + 1] = i < lead ? 0 : _strides[i - lead];
            dims[i] = checked(size * repeats[i]);
        }
        var result = Empty(Shape.Wrap(dims), DType);
        GatherStrided(this, Offset, tiled, tiledStrides, result);
        return GradMode.ShouldRecord(this) ? new RepeatBackward(this, tiled).Attach(result) : result;
    }

    /// <summary>This tensor's elements laid out contiguously, without recording autograd (for ops that record their own backward).</summary>
    private Tensor ContiguousValues() => IsContiguous ? this : Detach().Clone();

    private static void RequireTensors(IReadOnlyList<Tensor> tensors, string op)
    {
        if (tensors.Count == 0) throw new ArgumentException($"{op}: expects a non-empty list of tensors");
        for (int i = 0; i < tensors.Count; i++)
            if (tensors[i] is null) throw new ArgumentNullException(nameof(tensors), $"{op}: tensor {i} is null");
    }

    private static string FormatShapes(IReadOnlyList<Tensor> tensors)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < tensors.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(tensors[i].Shape);
        }
        return sb.ToString();
    }

    private static void CopyBlocks(Tensor source, int outer, int block, int destinationStride, int offset, Tensor destination)
    {
        switch (source.DType)
        {
            case DType.Float32: IndexingKernels.CopyBlocks(source.Data<float>(), outer, block, destinationStride, offset, destination.Data<float>()); break;
            case DType.Float64: IndexingKernels.CopyBlocks(source.Data<double>(), outer, block, destinationStride, offset, destination.Data<double>()); break;
            case DType.Int32: IndexingKernels.CopyBlocks(source.Data<int>(), outer, block, destinationStride, offset, destination.Data<int>()); break;
            case DType.Int64: IndexingKernels.CopyBlocks(source.Data<long>(), outer, block, destinationStride, offset, destination.Data<long>()); break;
            case DType.UInt8: IndexingKernels.CopyBlocks(source.Data<byte>(), outer, block, destinationStride, offset, destination.Data<byte>()); break;
            case DType.Int8: IndexingKernels.CopyBlocks(source.Data<sbyte>(), outer, block, destinationStride, offset, destination.Data<sbyte>()); break;
            case DType.Bool: IndexingKernels.CopyBlocks(source.Data<bool>(), outer, block, destinationStride, offset, destination.Data<bool>()); break;
        }
    }

    /// <summary>Copies the view (offset, dims, strides) over <paramref name="source"/>'s storage into the contiguous <paramref name="destination"/>.</summary>
    private static void GatherStrided(Tensor source, int offset, int[] dims, int[] strides, Tensor destination)
    {
        if (destination.Numel == 0) return;
        (dims, strides) = Coalesce(dims, strides);
        switch (source.DType)
        {
            case DType.Float32: StridedKernels.Gather<float>(source.Array<float>(), offset, dims, strides, destination.Data<float>()); break;
            case DType.Float64: StridedKernels.Gather<double>(source.Array<double>(), offset, dims, strides, destination.Data<double>()); break;
            case DType.Int32: StridedKernels.Gather<int>(source.Array<int>(), offset, dims, strides, destination.Data<int>()); break;
            case DType.Int64: StridedKernels.Gather<long>(source.Array<long>(), offset, dims, strides, destination.Data<long>()); break;
            case DType.UInt8: StridedKernels.Gather<byte>(source.Array<byte>(), offset, dims, strides, destination.Data<byte>()); break;
            case DType.Int8: StridedKernels.Gather<sbyte>(source.Array<sbyte>(), offset, dims, strides, destination.Data<sbyte>()); break;
            case DType.Bool: StridedKernels.Gather<bool>(source.Array<bool>(), offset, dims, strides, destination.Data<bool>()); break;
        }
    }

    /// <summary>
    /// The same row-major walk with fewer, longer rows: drops size-1 dimensions and merges a dimension into the next
    /// when its stride steps exactly over it. [N, 1] repeated to [N, 64] becomes N rows filled from one element
    /// (stride 0) instead of 64·N one-element rows; a flipped contiguous tensor becomes one row of stride −1.
    /// </summary>
    private static (int[] Dims, int[] Strides) Coalesce(int[] dims, int[] strides)
    {
        var d = new List<int>(dims.Length);
        var s = new List<int>(dims.Length);
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == 1) continue;
            if (d.Count > 0 && s[^1] == strides[i] * dims[i])
            {
                d[^1] *= dims[i];
                s[^1] = strides[i];
            }
            else
            {
                d.Add(dims[i]);
                s.Add(strides[i]);
            }
        }
        return ([.. d], [.. s]);
    }

    private sealed class CatBackward(IReadOnlyList<Tensor> inputs, int axis) : BackwardNode("cat", [.. inputs])
    {
        private readonly int[] _sizes = inputs.Select(t => t.Shape[axis]).ToArray();

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var grads = new Tensor?[_sizes.Length];
            int offset = 0;
            for (int i = 0; i < grads.Length; i++)
            {
                if (NeedsGrad(i)) grads[i] = gradOutput.Narrow(axis, offset, _sizes[i]);
                offset += _sizes[i];
            }
            return grads;
        }
    }

    private sealed class RepeatBackward(Tensor input, int[] tiled) : BackwardNode("repeat", input)
    {
        private readonly Shape _shape = input.Shape;

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            // Sum the [r₀, d₀, r₁, d₁, …] view over the r axes, leaving [1, d₀, 1, d₁, …], which holds x's elements.
            var kept = (int[])tiled.Clone();
            for (int i = 0; i < kept.Length; i += 2) kept[i] = 1;
            return [gradOutput.Reshape(tiled).SumToSize(Shape.Wrap(kept)).Reshape(_shape.ToArray())];
        }
    }
}
