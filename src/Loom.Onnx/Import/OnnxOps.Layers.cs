namespace Loom.Onnx;

// Convolution, pooling, normalisation, Gemm and the recurrent layers.
//
// Uneven padding (ONNX pads are [begin…, end…]; CNTK's ResNet18 opens with Conv pads [3, 3, 2, 2] and MaxPool
// [1, 1, 0, 0]) maps onto Loom's symmetric padding without copying the input when end ≤ begin: pad `begin` on both
// sides and keep the first `out` positions. The windows that survive start at the same places, and none of them
// reaches the extra end padding, so the result is exact (for max pooling and for averages that count the padding
// alike). When end > begin the extra end padding is added explicitly (zeros, or −∞ for max pooling).
internal static partial class OnnxOps
{
    private static Tensor Gemm(OnnxNode n, Tensor?[] x)
    {
        var a = Req(x, 0);
        var b = Req(x, 1);
        var c = Opt(x, 2);
        float alpha = n.Float("alpha", 1), beta = n.Float("beta", 1);
        bool transA = n.Int("transA", 0) != 0, transB = n.Int("transB", 0) != 0;
        if (a.Rank != 2 || b.Rank != 2) throw new OnnxException($"A and B must be 2-D, got {a.Shape} and {b.Shape}");
        // The common case, a Linear layer (y = x·Wᵀ + b), takes Loom's fused linear path.
        if (!transA && transB && alpha == 1 && beta == 1 && (c is null || c.Rank == 1 && c.Shape[0] == b.Shape[0]))
            return Functional.Linear(a, b, c);
        var y = (transA ? a.Transpose(0, 1) : a).Matmul(transB ? b.Transpose(0, 1) : b);
        if (alpha != 1) y = y.Mul(alpha);
        if (c is not null) y = y.Add(beta == 1 ? c : c.Mul(beta));
        return y;
    }

    /// <summary>Kernel geometry shared by Conv, ConvTranspose and the pools, for 1-D or 2-D spatial inputs.</summary>
    private readonly record struct Window(int[] Kernel, int[] Strides, int[] Dilations, int[] Begin, int[] End);

    private static Window ReadWindow(OnnxNode n, Tensor x, int[]? kernelFromWeight) => ReadWindow(n, x.Shape, kernelFromWeight);

    private static Window ReadWindow(OnnxNode n, Shape x, int[]? kernelFromWeight)
    {
        int spatial = x.Rank - 2;
        if (spatial is not (1 or 2)) throw new OnnxException($"only 1-D and 2-D inputs are supported, got shape {x}");
        var kernel = n.SmallInts("kernel_shape") ?? kernelFromWeight ?? throw new OnnxException("attribute 'kernel_shape' is missing");
        var strides = n.SmallInts("strides") ?? Enumerable.Repeat(1, spatial).ToArray();
        var dilations = n.SmallInts("dilations") ?? Enumerable.Repeat(1, spatial).ToArray();
        var pads = n.SmallInts("pads") ?? new int[2 * spatial];
        if (kernel.Length != spatial || strides.Length != spatial || dilations.Length != spatial || pads.Length != 2 * spatial)
            throw new OnnxException($"kernel_shape, strides, dilations and pads must match the {spatial} spatial dimensions of {x}");
        if (kernel.Any(k => k <= 0) || strides.Any(s => s <= 0) || dilations.Any(d => d <= 0) || pads.Any(p => p < 0))
            throw new OnnxException("kernel sizes, strides and dilations must be positive and pads non-negative");
        var begin = pads[..spatial];
        var end = pads[spatial..];
        string autoPad = n.String("auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            for (int i = 0; i < spatial; i++)
            {
                int size = x[2 + i], outSize = (size + strides[i] - 1) / strides[i];
                int total = Math.Max(0, (outSize - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
                begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end[i] = total - begin[i];
            }
        else if (autoPad == "VALID") { Array.Clear(begin); Array.Clear(end); }
        else if (autoPad != "NOTSET") throw new OnnxException($"auto_pad '{autoPad}' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
        return new Window(kernel, strides, dilations, begin, end);
    }

    /// <summary>1-D inputs become 2-D with a unit height, so one Loom kernel serves both.</summary>
    private static (int H, int W) Pair(int[] v, int oneDFill) => v.Length == 1 ? (oneDFill, v[0]) : (v[0], v[1]);

    private static Tensor As2d(Tensor x) => x.Rank == 3 ? x.Unsqueeze(2) : x;

    private static Tensor From2d(Tensor y, int rank) => rank == 3 ? y.Squeeze(2) : y;

    /// <summary>Extra end padding (end − begin where positive) added explicitly, and the symmetric padding that remains.</summary>
    private static (Tensor Padded, int[] Symmetric) PadEnds(Tensor x, Window w, double value)
    {
        int spatial = w.Begin.Length;
        var extra = new int[2 * spatial];
        bool any = false;
        for (int i = 0; i < spatial; i++)
        {
            // F.Pad takes (before, after) pairs from the last dimension backwards.
            int slot = 2 * (spatial - 1 - i) + 1;
            extra[slot] = Math.Max(0, w.End[i] - w.Begin[i]);
            any |= extra[slot] > 0;
        }
        return (any ? Functional.Pad(x, extra, PadMode.Constant, value) : x, w.Begin);
    }

    /// <summary>Keeps the first out positions of each spatial dimension (see the note at the top of this file).</summary>
    private static Tensor CropTo(Tensor y, Tensor x, Window w, bool ceil)
    {
        for (int i = 0; i < w.Begin.Length; i++)
        {
            long span = x.Shape[2 + i] + w.Begin[i] + w.End[i] - ((long)(w.Kernel[i] - 1) * w.Dilations[i] + 1);
            if (span < 0) throw new OnnxException($"the kernel is larger than the padded input {x.Shape}");
            long outSize = (ceil ? (span + w.Strides[i] - 1) / w.Strides[i] : span / w.Strides[i]) + 1;
            // ONNX (like PyTorch) drops a last window that would start in the end padding.
            if (ceil && (outSize - 1) * w.Strides[i] >= x.Shape[2 + i] + w.Begin[i]) outSize--;
            int axis = y.Rank - w.Begin.Length + i;
            if (y.Shape[axis] < outSize) throw new OnnxException($"output size {y.Shape[axis]} is less than the expected {outSize} (input {x.Shape})");
            if (y.Shape[axis] > outSize) y = y.Narrow(axis, 0, (int)outSize);
        }
        return y;
    }

    /// <summary>The window attributes (kernel from the weight, pads, strides, dilations) and the group count that
    /// Conv and ConvTranspose read alike.</summary>
    private static (Window Window, int Groups) ConvWindow(OnnxNode n, Tensor x, Tensor weight)
    {
        if (weight.Rank != x.Rank) throw new OnnxException($"weight {weight.Shape} does not match input {x.Shape}");
        return (ReadWindow(n, x, weight.Shape.Dims[2..].ToArray()), n.SmallInt("group", 1));
    }

    private static Tensor Conv(OnnxNode n, Tensor?[] inputs)
    {
        var x = Req(inputs, 0);
        var weight = Req(inputs, 1);
        var bias = Opt(inputs, 2);
        var (w, groups) = ConvWindow(n, x, weight);
        var (padded, symmetric) = PadEnds(x, w, 0);
        var y = Functional.Conv2d(As2d(padded), As2d(weight), bias, Pair(w.Strides, 1), Pair(symmetric, 0), Pair(w.Dilations, 1), groups);
        return CropTo(From2d(y, x.Rank), x, w, ceil: false);
    }

    /// <summary>
    /// A Conv with the ops the inference plan fused into it: relu?(conv(x, weight) + bias + residual?) as one
    /// <see cref="Functional.Conv2d(Tensor, Tensor, Tensor?, ValueTuple{int, int}, ValueTuple{int, int}, ValueTuple{int, int}, int, Activation, Tensor?)"/>
    /// when the convolution is 2-D and needs no crop and the residual has the output's shape; otherwise the separate
    /// ops (a broadcast Add, say).
    /// </summary>
    public static Tensor FusedConv(OnnxNode n, Tensor x, Tensor weight, Tensor? bias, Tensor? residual, bool relu, PackedConv2dWeight? packed = null)
    {
        var (w, groups) = ConvWindow(n, x, weight);
        var (padded, symmetric) = PadEnds(x, w, 0);
        if (x.Rank == 4 && !NeedsCrop(padded, x, w, symmetric))
        {
            var outShape = new Shape(x.Shape[0], weight.Shape[0], ConvOutSize(x, w, 0), ConvOutSize(x, w, 1));
            if (residual is null || residual.Shape == outShape && residual.DType == x.DType)
                return packed is not null && packed.Groups == groups
                    ? Functional.Conv2d(padded, packed, bias, Pair(w.Strides, 1), Pair(symmetric, 0), Pair(w.Dilations, 1), relu ? Activation.Relu : Activation.None, residual)
                    : Functional.Conv2d(padded, weight, bias, Pair(w.Strides, 1), Pair(symmetric, 0), Pair(w.Dilations, 1), groups,
                        relu ? Activation.Relu : Activation.None, residual);
        }
        var y = Functional.Conv2d(As2d(padded), As2d(weight), bias, Pair(w.Strides, 1), Pair(symmetric, 0), Pair(w.Dilations, 1), groups);
        y = CropTo(From2d(y, x.Rank), x, w, ceil: false);
        if (residual is not null) y = y.Add(residual);
        return relu ? y.Relu() : y;
    }

    /// <summary>
    /// The fused convolution of <see cref="FusedConv"/> on activations in the blocked-channel layout of b channels
    /// (<see cref="Functional.Conv2dBlocked"/>): the input [N, C / b, H, W, b] (of NCHW shape <paramref name="x"/>), the
    /// residual, if any, and the output in that layout. Null where the Conv is not a 2-D one with the packed group
    /// count whose padding maps onto symmetric padding without a crop (see the note at the top), or the residual does not
    /// have the output's shape (the caller then runs <see cref="FusedConv"/>); the operands are fetched (reordered) only
    /// when it runs.
    /// </summary>
    /// <remarks>With <paramref name="intoBlocks"/> &gt; 0, the input is NCHW and only the output (and residual) is blocked, in blocks of that size.</remarks>
    public static Tensor? FusedConvBlocked(OnnxNode n, Shape x, Func<Tensor> input, PackedConv2dWeight packed, Tensor? bias,
        Shape? residual, Func<Tensor?> blockedResidual, bool relu, int intoBlocks = 0)
    {
        var weight = packed.Weight;
        if (x.Rank != 4 || weight.Rank != 4 || packed.Groups != n.SmallInt("group", 1)) return null;
        var w = ReadWindow(n, x, weight.Shape.Dims[2..].ToArray());
        var outShape = new Shape(x[0], weight.Shape[0], ConvOutSize(x, w, 0), ConvOutSize(x, w, 1));
        for (int i = 0; i < 2; i++)
            if (w.End[i] > w.Begin[i] || ConvOutSize(x, w with { End = w.Begin }, i) != outShape[2 + i]) return null;
        if (residual is { } r && r != outShape) return null;
        var activation = relu ? Activation.Relu : Activation.None;
        return intoBlocks > 0
            ? Functional.Conv2dIntoBlocks(input(), packed, bias, Pair(w.Strides, 1), Pair(w.Begin, 0), Pair(w.Dilations, 1), intoBlocks, activation, blockedResidual())
            : Functional.Conv2dBlocked(input(), packed, bias, Pair(w.Strides, 1), Pair(w.Begin, 0), Pair(w.Dilations, 1), activation, blockedResidual());
    }

    /// <summary>
    /// A MaxPool on activations in the blocked-channel layout [N, C / b, H, W, b] (<see cref="Functional.MaxPool2dBlocked"/>),
    /// the output in that layout: ResNet's stem pool between the blocked stem and the first blocked block. Null where the
    /// pool is not 2-D, uses ceil mode or has more padding at an end than at the start (the caller then runs the NCHW op).
    /// </summary>
    public static Tensor? MaxPoolBlocked(OnnxNode n, Tensor x)
    {
        if (x.Rank != 5 || n.Int("ceil_mode", 0) != 0) return null;
        var w = ReadWindow(n, new Shape(x.Shape[0], x.Shape[1] * x.Shape[4], x.Shape[2], x.Shape[3]), null);
        for (int i = 0; i < 2; i++)
        {
            // Symmetric padding `begin` gives ONNX's windows as long as it yields no more of them (see the note at the top).
            long dilated = (long)(w.Kernel[i] - 1) * w.Dilations[i] + 1, size = x.Shape[2 + i];
            if (w.End[i] > w.Begin[i] || 2L * w.Begin[i] > dilated || size + w.Begin[i] + w.End[i] < dilated
                || (size + 2L * w.Begin[i] - dilated) / w.Strides[i] != (size + w.Begin[i] + w.End[i] - dilated) / w.Strides[i])
                return null;
        }
        return Functional.MaxPool2dBlocked(x, Pair(w.Kernel, 1), Pair(w.Strides, 1), Pair(w.Begin, 0), Pair(w.Dilations, 1));
    }

    /// <summary>
    /// An AveragePool on activations in the blocked-channel layout (<see cref="Functional.AvgPool2dBlocked"/>), the
    /// output in that layout: ResNet's final pool reading the last blocked convolution. Null where the pool is not 2-D,
    /// uses ceil mode, dilation or padding that differs between the ends (the caller then runs the NCHW op).
    /// </summary>
    public static Tensor? AvgPoolBlocked(OnnxNode n, Tensor x)
    {
        if (x.Rank != 5 || n.Int("ceil_mode", 0) != 0) return null;
        var w = ReadWindow(n, new Shape(x.Shape[0], x.Shape[1] * x.Shape[4], x.Shape[2], x.Shape[3]), null);
        if (w.Dilations.Any(d => d != 1) || !w.Begin.SequenceEqual(w.End)) return null;
        return Functional.AvgPool2dBlocked(x, Pair(w.Kernel, 1), Pair(w.Strides, 1), Pair(w.Begin, 0), n.Int("count_include_pad", 0) != 0);
    }

    /// <summary>ONNX's output size of a convolution along spatial axis i (floor mode).</summary>
    private static int ConvOutSize(Tensor x, Window w, int i) => ConvOutSize(x.Shape, w, i);

    /// <summary>ONNX's output size of a convolution along spatial axis i (floor mode).</summary>
    private static int ConvOutSize(Shape x, Window w, int i)
    {
        long span = x[2 + i] + w.Begin[i] + w.End[i] - ((long)(w.Kernel[i] - 1) * w.Dilations[i] + 1);
        if (span < 0) throw new OnnxException($"the kernel is larger than the padded input {x}");
        return (int)(span / w.Strides[i] + 1);
    }

    /// <summary>Whether the symmetric padding gives more positions than ONNX's (the extra ones are then cropped).</summary>
    private static bool NeedsCrop(Tensor padded, Tensor x, Window w, int[] symmetric)
    {
        for (int i = 0; i < symmetric.Length; i++)
        {
            long span = padded.Shape[2 + i] + 2L * symmetric[i] - ((long)(w.Kernel[i] - 1) * w.Dilations[i] + 1);
            if (span < 0 || span / w.Strides[i] + 1 != ConvOutSize(x, w, i)) return true;
        }
        return false;
    }

    private static Tensor ConvTranspose(OnnxNode n, Tensor?[] inputs)
    {
        var x = Req(inputs, 0);
        var weight = Req(inputs, 1);
        var bias = Opt(inputs, 2);
        var (w, groups) = ConvWindow(n, x, weight);
        int spatial = x.Rank - 2;
        var outputPadding = n.SmallInts("output_padding") ?? new int[spatial];
        if (outputPadding.Length != spatial) throw new OnnxException($"output_padding must have {spatial} values");
        int FullSize(int i) => (x.Shape[2 + i] - 1) * w.Strides[i] + (w.Kernel[i] - 1) * w.Dilations[i] + 1 + outputPadding[i];
        if (n.SmallInts("output_shape") is { } outputShape)
        {
            if (outputShape.Length != spatial) throw new OnnxException($"output_shape must have {spatial} values");
            bool upper = n.String("auto_pad", "NOTSET") == "SAME_UPPER";
            for (int i = 0; i < spatial; i++)
            {
                int total = FullSize(i) - outputShape[i];
                if (total < 0) throw new OnnxException($"output_shape {outputShape[i]} is larger than the full output {FullSize(i)}");
                w.Begin[i] = upper ? total / 2 : total - total / 2;
                w.End[i] = total - w.Begin[i];
            }
        }
        // The transposed conv with padding p crops p from both ends of the full output; crop the rest of an uneven pair here.
        var symmetric = w.Begin.Zip(w.End, Math.Min).ToArray();
        var y = Functional.ConvTranspose2d(As2d(x), As2d(weight), bias, Pair(w.Strides, 1), Pair(symmetric, 0), Pair(outputPadding, 0),
            Pair(w.Dilations, 1), groups);
        y = From2d(y, x.Rank);
        for (int i = 0; i < spatial; i++)
        {
            int axis = 2 + i, head = w.Begin[i] - symmetric[i], tail = w.End[i] - symmetric[i];
            if (head + tail > 0) y = y.Narrow(axis, head, y.Shape[axis] - head - tail);
        }
        return y;
    }

    private static Tensor Pool(OnnxNode n, Tensor x, bool max)
    {
        var w = ReadWindow(n, x, null);
        bool ceil = n.Int("ceil_mode", 0) != 0;
        if (max && n.Outputs.Length > 1 && n.Outputs[1] != "") throw new OnnxException("the Indices output of MaxPool is not supported");
        if (!max && w.Dilations.Any(d => d != 1)) throw new OnnxException("dilated average pooling is not supported");
        bool countPad = n.Int("count_include_pad", 0) != 0;
        if (!max && !countPad && w.End.Zip(w.Begin).Any(p => p.First > p.Second))
            throw new OnnxException("average pooling with more padding after than before and count_include_pad = 0 is not supported");
        var (padded, symmetric) = PadEnds(x, w, max ? double.NegativeInfinity : 0);
        var input = As2d(padded);
        var y = max
            ? Functional.MaxPool2d(input, Pair(w.Kernel, 1), Pair(w.Strides, 1), Pair(symmetric, 0), Pair(w.Dilations, 1), ceil)
            : Functional.AvgPool2d(input, Pair(w.Kernel, 1), Pair(w.Strides, 1), Pair(symmetric, 0), countPad, ceil);
        return CropTo(From2d(y, x.Rank), x, w, ceil);
    }

    // Y = scale·(X − mean)/√(var + ε) + B per channel. In training mode (fine-tuning) the batch statistics normalise
    // and the running ones move by ONNX's momentum m: running = m·running + (1 − m)·batch, PyTorch's momentum 1 − m.
    private static Tensor[] BatchNormalization(OnnxNode n, Tensor?[] x, bool training)
    {
        var input = Req(x, 0);
        Tensor scale = Req(x, 1), bias = Req(x, 2), mean = Req(x, 3), variance = Req(x, 4);
        // Opsets before 9 had `spatial` (default 1); spatial = 0 normalises each activation separately, which Loom
        // supports only when the statistics are per channel anyway.
        if (n.Opset < 9 && n.Int("spatial", 1) == 0 && scale.Rank > 1)
            throw new OnnxException($"spatial = 0 with per-activation statistics (scale shape {scale.Shape}) is not supported");
        var channels = new Shape(input.Shape[1]);
        Tensor Channels(Tensor t) => t.Shape == channels ? t : t.Reshape(input.Shape[1]);
        double eps = n.Float("epsilon", 1e-5f);
        double momentum = 1 - n.Float("momentum", 0.9f);
        if (training)
            return [Functional.BatchNorm(input, Channels(mean), Channels(variance), Channels(scale), Channels(bias), true, momentum, eps), mean, variance, mean, variance];
        // Inference is one per-channel affine map, y = x·a + c with a = scale/√(var + ε), c = B − mean·a: two
        // broadcast element-wise passes, several times faster here than the general batch_norm op (35 ms against
        // a few for a 64×112×112 activation at batch 1), and still differentiable in scale and B.
        var a = Channels(scale).Div(Channels(variance).Add(eps).Sqrt());
        var shift = Channels(bias).Sub(Channels(mean).Mul(a));
        var perChannel = new int[input.Rank - 1];
        Array.Fill(perChannel, 1);
        perChannel[0] = input.Shape[1];
        return [input.Mul(a.Reshape(perChannel)).Add(shift.Reshape(perChannel)), mean, variance, mean, variance];
    }

    private static Tensor LayerNormalization(OnnxNode n, Tensor?[] x)
    {
        var input = Req(x, 0);
        int axis = NormalizeAxis(n.Int("axis", -1), input.Rank, "axis");
        var normalized = input.Shape.Dims[axis..].ToArray();
        var scale = Req(x, 1);
        var bias = Opt(x, 2);
        Tensor Fit(Tensor t) => t.Shape == new Shape(normalized) ? t : t.BroadcastTo(new Shape(normalized));
        if (n.Outputs.Skip(1).Any(o => o != "")) throw new OnnxException("the Mean and InvStdDev outputs are not supported");
        return Functional.LayerNorm(input, normalized, Fit(scale), bias is null ? null : Fit(bias), n.Float("epsilon", 1e-5f));
    }

    // ONNX LSTM gates are (i, o, f, c) and GRU gates (z, r, h); Loom's (PyTorch's) are (i, f, g, o) and (r, z, n).
    private static readonly int[] LstmGateOrder = [0, 2, 3, 1], GruGateOrder = [1, 0, 2];

    private static Tensor[] Recurrent(OnnxNode n, Tensor?[] x, RecurrentCell cell)
    {
        var input = Req(x, 0);
        var w = Req(x, 1);
        var r = Req(x, 2);
        var b = Opt(x, 3);
        var lengthsTensor = Opt(x, 4);
        var h0 = Opt(x, 5);
        var c0 = cell == RecurrentCell.Lstm ? Opt(x, 6) : null;
        if (cell == RecurrentCell.Lstm && Opt(x, 7) is not null) throw new OnnxException("peephole weights (input P) are not supported");
        if (n.Has("activations")) throw new OnnxException("custom activations are not supported");
        if (n.Has("clip")) throw new OnnxException("cell clipping is not supported");
        if (n.Int("input_forget", 0) != 0) throw new OnnxException("input_forget = 1 is not supported");
        if (cell == RecurrentCell.Gru && n.Int("linear_before_reset", 0) == 0)
            throw new OnnxException("GRU with linear_before_reset = 0 is not supported (PyTorch's GRU, and Loom's, apply the reset gate after the linear map)");
        bool batchFirst = n.Int("layout", 0) != 0;
        string direction = n.String("direction", "forward");
        int dirs = direction == "bidirectional" ? 2 : 1;
        if (direction is not ("forward" or "reverse" or "bidirectional")) throw new OnnxException($"direction '{direction}' is not supported");
        int gates = cell.GateCount();
        int hidden = r.Rank == 3 ? r.Shape[2] : throw new OnnxException($"R must be [directions, {gates}·H, H], got {r.Shape}");
        if (input.Rank != 3) throw new OnnxException($"X must be 3-D, got {input.Shape}");
        if (w.Rank != 3 || w.Shape[0] != dirs || w.Shape[1] != gates * hidden || w.Shape[2] != input.Shape[2] || r.Shape[0] != dirs || r.Shape[1] != gates * hidden)
            throw new OnnxException($"W {w.Shape} and R {r.Shape} do not fit {dirs} direction(s), {gates} gates, hidden size {hidden} and input {input.Shape}");
        if (n.Has("hidden_size") && n.Int("hidden_size", 0) != hidden) throw new OnnxException($"hidden_size {n.Int("hidden_size", 0)} does not match R {r.Shape}");
        int[]? lengths = lengthsTensor is null ? null : n.ToInts(OnnxTensors.Longs(lengthsTensor, "sequence_lens"), "sequence_lens");
        var order = cell == RecurrentCell.Lstm ? LstmGateOrder : GruGateOrder;
        Tensor Reorder(Tensor t) => Tensor.Cat(order.Select(g => t.Narrow(0, g * hidden, hidden)).ToList(), 0);
        Tensor? State(Tensor? s, int d) => s is null ? null : batchFirst ? s.Select(1, d) : s.Select(0, d);

        var outputs = new List<Tensor>();
        var finalH = new List<Tensor>();
        var finalC = new List<Tensor>();
        for (int d = 0; d < dirs; d++)
        {
            Tensor? bih = null, bhh = null;
            if (b is not null)
            {
                if (b.Shape != new Shape(dirs, 2 * gates * hidden)) throw new OnnxException($"B must be [{dirs}, {2 * gates * hidden}], got {b.Shape}");
                bih = Reorder(b.Select(0, d).Narrow(0, 0, gates * hidden));
                bhh = Reorder(b.Select(0, d).Narrow(0, gates * hidden, gates * hidden));
            }
            bool reverse = direction == "reverse" || d == 1;
            var (y, h, c) = Functional.RecurrentLayer(cell, input, Reorder(w.Select(0, d)), Reorder(r.Select(0, d)), bih, bhh,
                State(h0, d), State(c0, d), batchFirst, reverse, lengths);
            outputs.Add(y);
            finalH.Add(h);
            if (c is not null) finalC.Add(c);
        }
        // Y is [T, directions, B, H] (layout 0) or [B, T, directions, H] (layout 1); Y_h and Y_c [directions, B, H] or [B, directions, H].
        int stateAxis = batchFirst ? 1 : 0;
        var result = new List<Tensor> { Tensor.Stack(outputs, batchFirst ? 2 : 1), Tensor.Stack(finalH, stateAxis) };
        if (cell == RecurrentCell.Lstm) result.Add(Tensor.Stack(finalC, stateAxis));
        return [.. result];
    }
}
