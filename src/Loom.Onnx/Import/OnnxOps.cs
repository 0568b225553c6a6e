namespace Loom.Onnx;

/// <summary>How one ONNX op runs in Loom: the node (attributes, opset), its inputs (null where an optional input is absent) and the mode.</summary>
internal delegate Tensor[] OnnxOp(OnnxNode node, Tensor?[] inputs, bool training);

/// <summary>
/// The ONNX ops Loom imports, each written with Loom's differentiable tensor ops so that an imported graph trains.
/// Errors are thrown bare; the graph runner prefixes the file and <see cref="OnnxNode.Describe"/>.
/// </summary>
internal static partial class OnnxOps
{
    /// <summary>Opsets whose semantics these ops follow (per-op differences between them are handled by opset checks).</summary>
    public const int MinOpset = 7, MaxOpset = 21;

    public static readonly IReadOnlyDictionary<string, OnnxOp> Registry = new Dictionary<string, OnnxOp>
    {
        // element-wise
        ["Add"] = (n, x, _) => [Req(x, 0).Add(Req(x, 1))],
        ["Sub"] = (n, x, _) => [Req(x, 0).Sub(Req(x, 1))],
        ["Mul"] = (n, x, _) => [Req(x, 0).Mul(Req(x, 1))],
        ["Div"] = (n, x, _) => [Div(Req(x, 0), Req(x, 1))],
        ["Pow"] = (n, x, _) => [Pow(Req(x, 0), Req(x, 1))],
        ["Sqrt"] = (n, x, _) => [Req(x, 0).Sqrt()],
        ["Exp"] = (n, x, _) => [Req(x, 0).Exp()],
        ["Log"] = (n, x, _) => [Req(x, 0).Log()],
        ["Neg"] = (n, x, _) => [Req(x, 0).Neg()],
        ["Abs"] = (n, x, _) => [Req(x, 0).Abs()],
        ["Reciprocal"] = (n, x, _) => [Req(x, 0).Reciprocal()],
        ["Relu"] = (n, x, _) => [Req(x, 0).Relu()],
        ["LeakyRelu"] = (n, x, _) => [Req(x, 0).LeakyRelu(n.Float("alpha", 0.01f))],
        ["Sigmoid"] = (n, x, _) => [Req(x, 0).Sigmoid()],
        ["Tanh"] = (n, x, _) => [Req(x, 0).Tanh()],
        ["Erf"] = (n, x, _) => [Req(x, 0).Erf()],
        ["Gelu"] = (n, x, _) => [Req(x, 0).Gelu(approximate: n.String("approximate", "none") switch
        {
            "none" => false,
            "tanh" => true,
            var a => throw new OnnxException($"approximate = '{a}' is not 'none' or 'tanh'"),
        })],
        ["Clip"] = (n, x, _) => [Clip(n, x)],
        ["Softmax"] = (n, x, _) => [Softmax(n, Req(x, 0), log: false)],
        ["LogSoftmax"] = (n, x, _) => [Softmax(n, Req(x, 0), log: true)],
        ["Max"] = (n, x, _) => [Variadic(x, (a, b) => a.Maximum(b))],
        ["Min"] = (n, x, _) => [Variadic(x, (a, b) => a.Minimum(b))],
        ["Sum"] = (n, x, _) => [Variadic(x, (a, b) => a.Add(b))],
        ["Equal"] = (n, x, _) => [Req(x, 0).Eq(Req(x, 1))],
        ["Less"] = (n, x, _) => [Req(x, 0).Lt(Req(x, 1))],
        ["Greater"] = (n, x, _) => [Req(x, 0).Gt(Req(x, 1))],
        ["Not"] = (n, x, _) => [Req(x, 0).LogicalNot()],
        ["And"] = (n, x, _) => [Req(x, 0).LogicalAnd(Req(x, 1))],
        ["Or"] = (n, x, _) => [Req(x, 0).LogicalOr(Req(x, 1))],
        ["Where"] = (n, x, _) => [Tensor.Where(Req(x, 0), Req(x, 1), Req(x, 2))],
        ["Identity"] = (n, x, _) => [Req(x, 0)],
        ["Cast"] = (n, x, _) => [Req(x, 0).To(OnnxDataType.ToDType(n.SmallInt("to", 0), "attribute 'to'"))],
        ["Dropout"] = Dropout,

        // linear algebra and layers
        ["MatMul"] = (n, x, _) => [Req(x, 0).Matmul(Req(x, 1))],
        ["Gemm"] = (n, x, _) => [Gemm(n, x)],
        ["Conv"] = (n, x, _) => [Conv(n, x)],
        ["ConvTranspose"] = (n, x, _) => [ConvTranspose(n, x)],
        ["MaxPool"] = (n, x, _) => [Pool(n, Req(x, 0), max: true)],
        ["AveragePool"] = (n, x, _) => [Pool(n, Req(x, 0), max: false)],
        ["GlobalAveragePool"] = (n, x, _) => [Req(x, 0).Mean(SpatialAxes(Req(x, 0)), keepDim: true)],
        ["GlobalMaxPool"] = (n, x, _) => [Req(x, 0).Max(SpatialAxes(Req(x, 0)), keepDim: true)],
        ["BatchNormalization"] = BatchNormalization,
        ["LayerNormalization"] = (n, x, _) => [LayerNormalization(n, x)],
        ["LSTM"] = (n, x, _) => Recurrent(n, x, RecurrentCell.Lstm),
        ["GRU"] = (n, x, _) => Recurrent(n, x, RecurrentCell.Gru),

        // shapes and indexing
        ["Flatten"] = (n, x, _) => [Flatten(n, Req(x, 0))],
        ["Reshape"] = (n, x, _) => [Reshape(n, x)],
        ["Transpose"] = (n, x, _) => [Transpose(n, Req(x, 0))],
        ["Concat"] = (n, x, _) => [Tensor.Cat(x.Select((t, i) => t ?? throw new OnnxException($"input {i} is missing")).ToList(), n.SmallInt("axis", 0))],
        ["Split"] = Split,
        ["Slice"] = (n, x, _) => [Slice(n, x)],
        ["Gather"] = (n, x, _) => [Gather(n, Req(x, 0), Req(x, 1))],
        ["Squeeze"] = (n, x, _) => [Squeeze(n, x)],
        ["Unsqueeze"] = (n, x, _) => [Unsqueeze(n, x)],
        ["ReduceMean"] = (n, x, _) => [Reduce(n, x, (t, axes, keep) => t.Mean(axes, keep), inputAxesFrom: 18)],
        ["ReduceSum"] = (n, x, _) => [Reduce(n, x, (t, axes, keep) => t.Sum(axes, keep), inputAxesFrom: 13)],
        ["ReduceMax"] = (n, x, _) => [Reduce(n, x, (t, axes, keep) => t.Max(axes, keep), inputAxesFrom: 18)],
        ["ReduceLogSumExp"] = (n, x, _) => [Reduce(n, x, (t, axes, keep) => t.LogSumExp(axes, keep), inputAxesFrom: 18)],
        ["Shape"] = (n, x, _) => [ShapeOf(n, Req(x, 0))],
        ["ConstantOfShape"] = (n, x, _) => [ConstantOfShape(n, Req(x, 0))],
        ["Constant"] = (n, x, _) => [Constant(n)],
        ["Expand"] = (n, x, _) => [Expand(n, Req(x, 0), Req(x, 1))],
        ["Range"] = (n, x, _) => [Range(Req(x, 0), Req(x, 1), Req(x, 2))],
        ["Resize"] = (n, x, _) => [Resize(n, x)],
        ["ArgMax"] = (n, x, _) => [Req(x, 0).ArgMax((int)n.Int("axis", 0), keepDim: n.Int("keepdims", 1) != 0)],
        ["Sin"] = (n, x, _) => [Req(x, 0).Sin()],
    };

    /// <summary>Ops whose result depends on more than their inputs (the mode), so constant inputs do not make them constant.</summary>
    public static bool IsFoldable(string opType) => opType is not ("Dropout" or "BatchNormalization");

    internal static Tensor Req(Tensor?[] inputs, int index) =>
        index < inputs.Length && inputs[index] is { } t ? t : throw new OnnxException($"required input {index} is missing");

    internal static Tensor? Opt(Tensor?[] inputs, int index) => index < inputs.Length ? inputs[index] : null;

    private static Tensor Div(Tensor a, Tensor b)
    {
        if (a.DType.IsFloatingPoint() || b.DType.IsFloatingPoint()) return a.Div(b);
        // ONNX integer division truncates toward zero; Loom's floor division rounds down, so divide the magnitudes.
        return a.Abs().FloorDivide(b.Abs()).Mul(a.Sign().Mul(b.Sign()));
    }

    // x^c with a constant scalar c (GELU's x³, LayerNorm's x² in decomposed exports) takes the scalar path, whose
    // backward needs no log(x) and so stays finite at x ≤ 0.
    // A square (LayerNormalization written out as ops: Pow(x − mean, 2)) as a product: pow per element cost 1.9 of
    // MiniLM's 12 ms at batch 1.
    private static Tensor Pow(Tensor x, Tensor y) =>
        y.Numel == 1 && y.Rank <= x.Rank && !y.RequiresGrad
            ? (y.Item() == 2 && x.DType.IsFloatingPoint() ? x.Mul(x) : x.Pow(y.Item()))
            : x.Pow(y);

    private static Tensor Clip(OnnxNode n, Tensor?[] x)
    {
        double? min, max;
        if (n.Opset < 11)
        {
            min = n.Has("min") ? n.Float("min", 0) : null;
            max = n.Has("max") ? n.Float("max", 0) : null;
        }
        else
        {
            min = Opt(x, 1)?.Item();
            max = Opt(x, 2)?.Item();
        }
        return min is null && max is null ? Req(x, 0) : Req(x, 0).Clamp(min, max);
    }

    private static Tensor Variadic(Tensor?[] x, Func<Tensor, Tensor, Tensor> combine)
    {
        var result = Req(x, 0);
        for (int i = 1; i < x.Length; i++) result = combine(result, Req(x, i));
        return result;
    }

    // Before opset 13, softmax coerced the input to 2-D at `axis` (default 1) and normalised each row of the
    // flattened trailing dimensions; from 13 it normalises along `axis` (default −1) alone.
    private static Tensor Softmax(OnnxNode n, Tensor x, bool log)
    {
        if (n.Opset >= 13)
        {
            int axis = n.SmallInt("axis", -1);
            return log ? x.LogSoftmax(axis) : x.Softmax(axis);
        }
        int a = NormalizeAxis(n.SmallInt("axis", 1), x.Rank, "axis");
        var rows = x.Reshape(Prod(x.Shape, 0, a), Prod(x.Shape, a, x.Rank));
        var y = log ? rows.LogSoftmax(1) : rows.Softmax(1);
        return y.Reshape(x.Shape.ToArray());
    }

    private static Tensor[] Dropout(OnnxNode n, Tensor?[] x, bool training)
    {
        var input = Req(x, 0);
        double ratio = n.Opset < 12 ? n.Float("ratio", 0.5f) : Opt(x, 1)?.Item() ?? 0.5;
        bool train = n.Opset >= 12 && Opt(x, 2) is { } mode ? mode.Item() != 0 : training && n.Opset >= 12;
        var y = train ? Functional.Dropout(input, ratio, training: true) : input;
        return [y, Tensor.Full(input.Shape, 1, DType.Bool)];
    }

    // -------------------------------------------------------------------- shapes

    internal static int NormalizeAxis(long axis, int rank, string what)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new OnnxException($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    internal static int Prod(Shape s, int from, int to)
    {
        int p = 1;
        for (int i = from; i < to; i++) p *= s[i];
        return p;
    }

    private static int[] SpatialAxes(Tensor x)
    {
        if (x.Rank < 3) throw new OnnxException($"expected input [N, C, spatial...], got shape {x.Shape}");
        return Enumerable.Range(2, x.Rank - 2).ToArray();
    }

    private static Tensor Flatten(OnnxNode n, Tensor x)
    {
        long axisAttr = n.Int("axis", 1);
        int axis = axisAttr == x.Rank ? x.Rank : NormalizeAxis(axisAttr, x.Rank, "axis");
        return x.Reshape(Prod(x.Shape, 0, axis), Prod(x.Shape, axis, x.Rank));
    }

    private static Tensor Reshape(OnnxNode n, Tensor?[] x)
    {
        var input = Req(x, 0);
        long[] target = n.Opset < 5 && n.Ints("shape") is { } attr ? attr : OnnxTensors.Longs(Req(x, 1), "shape");
        bool allowZero = n.Int("allowzero", 0) != 0;
        var dims = new long[target.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == 0 && !allowZero)
            {
                if (i >= input.Rank) throw new OnnxException($"shape {Format(target)} copies dimension {i}, which input {input.Shape} lacks");
                d = input.Shape[i];
            }
            if (d == -1)
            {
                if (infer >= 0) throw new OnnxException($"shape {Format(target)} has more than one -1");
                infer = i;
                continue;
            }
            if (d < 0) throw new OnnxException($"shape {Format(target)} has a negative dimension");
            dims[i] = d;
            known = d == 0 ? 0 : Math.Min(known * d, long.MaxValue / 2);
        }
        if (infer >= 0)
        {
            if (known == 0 || input.Numel % known != 0)
                throw new OnnxException($"cannot reshape {input.Shape} ({input.Numel} elements) to {Format(target)}");
            dims[infer] = input.Numel / known;
        }
        var shape = OnnxTensors.CheckedDims(dims, "shape", int.MaxValue);
        if (new Shape(shape).Numel != input.Numel)
            throw new OnnxException($"cannot reshape {input.Shape} ({input.Numel} elements) to {Format(target)}");
        return input.Reshape(shape);
    }

    private static string Format(long[] values) => $"[{string.Join(", ", values)}]";

    private static Tensor Transpose(OnnxNode n, Tensor x)
    {
        var perm = n.SmallInts("perm") ?? Enumerable.Range(0, x.Rank).Reverse().ToArray();
        if (perm.Length != x.Rank || perm.Distinct().Count() != perm.Length || perm.Any(p => p < 0 || p >= x.Rank))
            throw new OnnxException($"perm [{string.Join(", ", perm)}] is not a permutation of the {x.Rank} axes of {x.Shape}");
        return x.Permute(perm);
    }

    private static Tensor[] Split(OnnxNode n, Tensor?[] x, bool _)
    {
        var input = Req(x, 0);
        int axis = NormalizeAxis(n.Int("axis", 0), input.Rank, "axis");
        int dim = input.Shape[axis];
        long[]? sizes = n.Opset < 13 ? n.Ints("split") : Opt(x, 1) is { } s ? OnnxTensors.Longs(s, "split") : null;
        if (sizes is null)
        {
            int parts = n.Opset >= 18 && n.Has("num_outputs") ? n.SmallInt("num_outputs", 1) : n.Outputs.Length;
            if (parts <= 0) throw new OnnxException($"cannot split into {parts} parts");
            long chunk = (dim + parts - 1) / parts;
            sizes = Enumerable.Range(0, parts).Select(i => Math.Max(0, Math.Min(chunk, dim - i * chunk))).ToArray();
        }
        if (sizes.Any(v => v < 0) || sizes.Sum() != dim)
            throw new OnnxException($"split sizes {Format(sizes)} do not add up to dimension {axis} of {input.Shape}");
        var outputs = new Tensor[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            outputs[i] = input.Narrow(axis, start, (int)sizes[i]);
            start += (int)sizes[i];
        }
        return outputs;
    }

    private static Tensor Slice(OnnxNode n, Tensor?[] x)
    {
        var input = Req(x, 0);
        long[] starts, ends;
        long[]? axes, steps = null;
        if (n.Opset < 10)
        {
            starts = n.Ints("starts") ?? throw new OnnxException("attribute 'starts' is missing");
            ends = n.Ints("ends") ?? throw new OnnxException("attribute 'ends' is missing");
            axes = n.Ints("axes");
        }
        else
        {
            starts = OnnxTensors.Longs(Req(x, 1), "starts");
            ends = OnnxTensors.Longs(Req(x, 2), "ends");
            axes = Opt(x, 3) is { } a ? OnnxTensors.Longs(a, "axes") : null;
            steps = Opt(x, 4) is { } s ? OnnxTensors.Longs(s, "steps") : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw new OnnxException($"starts, ends, axes and steps have different lengths ({starts.Length}, {ends.Length}, {axes.Length}, {steps.Length})");
        var result = input;
        var seen = new HashSet<int>();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = NormalizeAxis(axes[i], input.Rank, "axis");
            if (!seen.Add(axis)) throw new OnnxException($"axis {axis} is sliced twice");
            long dim = input.Shape[axis], step = steps[i];
            if (step == 0) throw new OnnxException("a slice step is 0");
            long start = starts[i] < 0 ? starts[i] + dim : starts[i];
            long end = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (step > 0)
            {
                start = Math.Clamp(start, 0, dim);
                end = Math.Clamp(end, start, dim);
                long stepClamped = Math.Min(step, dim == 0 ? 1 : dim);
                result = result.Slice(axis, (int)start, (int)end, (int)stepClamped);
            }
            else
            {
                // Runs start, start + step, … down to (not including) end: slice the same elements forwards, then flip.
                start = Math.Clamp(start, 0, dim - 1);
                end = Math.Clamp(end, -1, dim - 1);
                long count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
                long low = start - (count - 1) * (-step);
                long absStep = Math.Min(-step, dim == 0 ? 1 : dim);
                result = count == 0 ? result.Slice(axis, 0, 0) : result.Slice(axis, (int)low, (int)start + 1, (int)absStep).Flip(axis);
            }
        }
        return result;
    }

    private static Tensor Gather(OnnxNode n, Tensor data, Tensor indices)
    {
        int axis = NormalizeAxis(n.Int("axis", 0), data.Rank, "axis");
        if (indices.DType is not (DType.Int32 or DType.Int64))
            throw new OnnxException($"indices must be int32 or int64, got {indices.DType.Name()}");
        var flat = indices.To(DType.Int64).Contiguous().ToArray<long>();
        int dim = data.Shape[axis];
        for (int i = 0; i < flat.Length; i++)
        {
            long v = flat[i] < 0 ? flat[i] + dim : flat[i];
            if (v < 0 || v >= dim) throw new OnnxException($"index {flat[i]} is out of range for axis {axis} of size {dim} (data shape {data.Shape})");
            flat[i] = v;
        }
        var picked = data.IndexSelect(axis, Tensor.FromArray(flat, flat.Length));
        var shape = data.Shape.Dims[..axis].ToArray().Concat(indices.Shape.Dims.ToArray()).Concat(data.Shape.Dims[(axis + 1)..].ToArray()).ToArray();
        return picked.Reshape(shape);
    }

    private static long[]? AxesFrom(OnnxNode n, Tensor?[] x, int inputFrom) =>
        n.Opset < inputFrom ? n.Ints("axes") : Opt(x, 1) is { } a ? OnnxTensors.Longs(a, "axes") : null;

    private static Tensor Squeeze(OnnxNode n, Tensor?[] x)
    {
        var input = Req(x, 0);
        var axes = AxesFrom(n, x, 13);
        var drop = axes is null
            ? Enumerable.Range(0, input.Rank).Where(i => input.Shape[i] == 1).ToHashSet()
            : axes.Select(a => NormalizeAxis(a, input.Rank, "axis")).ToHashSet();
        foreach (var a in drop)
            if (input.Shape[a] != 1) throw new OnnxException($"cannot squeeze axis {a} of size {input.Shape[a]} (shape {input.Shape})");
        return input.Reshape(Enumerable.Range(0, input.Rank).Where(i => !drop.Contains(i)).Select(i => input.Shape[i]).ToArray());
    }

    private static Tensor Unsqueeze(OnnxNode n, Tensor?[] x)
    {
        var input = Req(x, 0);
        var axes = AxesFrom(n, x, 13) ?? throw new OnnxException("axes are missing");
        int rank = input.Rank + axes.Length;
        var insert = axes.Select(a => NormalizeAxis(a, rank, "axis")).ToHashSet();
        if (insert.Count != axes.Length) throw new OnnxException($"axes {Format(axes)} repeat an axis");
        var dims = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) dims[i] = insert.Contains(i) ? 1 : input.Shape[j++];
        return input.Reshape(dims);
    }

    private static Tensor Reduce(OnnxNode n, Tensor?[] x, Func<Tensor, int[], bool, Tensor> reduce, int inputAxesFrom)
    {
        var input = Req(x, 0);
        bool keep = n.Int("keepdims", 1) != 0;
        var axes = AxesFrom(n, x, inputAxesFrom);
        if (axes is null || axes.Length == 0)
        {
            if (n.Int("noop_with_empty_axes", 0) != 0) return input;
            axes = Enumerable.Range(0, input.Rank).Select(i => (long)i).ToArray();
        }
        return reduce(input, axes.Select(a => NormalizeAxis(a, input.Rank, "axis")).Distinct().ToArray(), keep);
    }

    private static Tensor ShapeOf(OnnxNode n, Tensor x)
    {
        int rank = x.Rank;
        int Clamp(long a) => (int)Math.Clamp(a < 0 ? a + rank : a, 0, rank);
        int start = Clamp(n.Int("start", 0)), end = Clamp(n.Int("end", rank));
        var dims = x.Shape.Dims.ToArray().Select(d => (long)d).ToArray();
        var part = start < end ? dims[start..end] : [];
        return Tensor.FromArray(part, part.Length);
    }

    private static Tensor ConstantOfShape(OnnxNode n, Tensor shape)
    {
        var dims = OnnxTensors.CheckedDims(OnnxTensors.Longs(shape, "shape"), "shape", OnnxTensors.MaxComputedElements);
        if (n.TensorAttribute("value") is not { } proto) return Tensor.Zeros(new Shape(dims));
        var value = OnnxTensors.ToTensor(proto, "attribute 'value'");
        if (value.Numel != 1) throw new OnnxException($"attribute 'value' must hold one element, got shape {value.Shape}");
        return Tensor.Full(new Shape(dims), value.Item(), value.DType);
    }

    private static Tensor Constant(OnnxNode n)
    {
        if (n.TensorAttribute("value") is { } proto) return OnnxTensors.ToTensor(proto, "attribute 'value'");
        if (n.Has("value_float")) return Tensor.Scalar(n.Float("value_float", 0));
        if (n.Floats("value_floats") is { } fs) return Tensor.FromArray(fs, fs.Length);
        if (n.Has("value_int")) return Tensor.Scalar(n.Int("value_int", 0), DType.Int64);
        if (n.Ints("value_ints") is { } ls) return Tensor.FromArray(ls, ls.Length);
        throw new OnnxException("no value attribute Loom can read (value, value_float(s) or value_int(s))");
    }

    private static Tensor Expand(OnnxNode n, Tensor x, Tensor shape)
    {
        var target = OnnxTensors.CheckedDims(OnnxTensors.Longs(shape, "shape"), "shape", OnnxTensors.MaxComputedElements);
        var outShape = Shape.Broadcast(x.Shape, new Shape(target), "expand");
        OnnxTensors.CheckedDims(outShape.Dims.ToArray().Select(d => (long)d).ToArray(), "expanded shape", OnnxTensors.MaxComputedElements);
        return x.BroadcastTo(outShape);
    }

    // Spatial resizing of [N, C, H, W] (opset 11+: X, roi, scales, sizes): linear as Loom's bilinear with half-pixel
    // centres (PyTorch's align_corners = False), or nearest with asymmetric coordinates and floor (PyTorch's nearest).
    private static Tensor Resize(OnnxNode n, Tensor?[] x)
    {
        var input = Req(x, 0);
        if (input.Rank != 4) throw new OnnxException($"Resize of a {input.Rank}-D tensor is not supported (only [N, C, H, W])");
        string mode = n.String("mode", "nearest"), coordinates = n.String("coordinate_transformation_mode", "half_pixel");
        int[] size;
        if (Opt(x, 3) is { } sizes)
            size = n.ToInts(OnnxTensors.Longs(sizes, "sizes"), "sizes");
        else if (Opt(x, 2) is { } scales && scales.Shape.Numel == 4)
        {
            var f = scales.ToArray<double>();
            size = [.. Enumerable.Range(0, 4).Select(i => (int)Math.Floor(input.Shape[i] * f[i]))];
        }
        else throw new OnnxException("Resize needs scales or sizes");
        if (size.Length != 4 || size[0] != input.Shape[0] || size[1] != input.Shape[1])
            throw new OnnxException($"Resize to [{string.Join(", ", size)}] changes more than the spatial dimensions of {input.Shape}");
        var (interpolation, expected) = mode switch
        {
            "linear" => (InterpolateMode.Bilinear, "half_pixel"),
            "nearest" => (InterpolateMode.Nearest, "asymmetric"),
            _ => throw new OnnxException($"Resize mode '{mode}' is not supported"),
        };
        if (coordinates != expected && !(mode == "linear" && coordinates == "pytorch_half_pixel"))
            throw new OnnxException($"Resize mode '{mode}' with coordinate_transformation_mode '{coordinates}' is not supported");
        if (mode == "nearest" && n.String("nearest_mode", "round_prefer_floor") != "floor")
            throw new OnnxException("Resize mode 'nearest' needs nearest_mode 'floor'");
        return Functional.Interpolate(input, [size[2], size[3]], mode: interpolation);
    }

    private static Tensor Range(Tensor start, Tensor limit, Tensor delta)
    {
        if (start.DType.IsFloatingPoint())
        {
            double s = start.Item(), l = limit.Item(), d = delta.Item();
            double count = Math.Ceiling((l - s) / d);
            if (!(count <= OnnxTensors.MaxComputedElements)) throw new OnnxException($"range({s}, {l}, {d}) is too long");
            return Tensor.Arange(s, l, d, start.DType);
        }
        long ls = (long)start.Item(), ll = (long)limit.Item(), ld = (long)delta.Item();
        if (ld == 0) throw new OnnxException("range delta is 0");
        long n = Math.Max(0, (ll - ls + ld + (ld > 0 ? -1 : 1)) / ld);
        if (n > OnnxTensors.MaxComputedElements) throw new OnnxException($"range({ls}, {ll}, {ld}) is too long");
        var values = new long[n];
        for (long i = 0; i < n; i++) values[i] = ls + i * ld;
        return Tensor.FromArray(values, (int)n).To(start.DType);
    }
}
