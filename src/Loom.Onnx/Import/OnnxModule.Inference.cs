using Loom.Memory;

namespace Loom.Onnx;

// The inference plan: the graph's nodes with every Conv → [BatchNormalization] → [Add] → [Relu] chain run as one fused
// convolution (Functional.Conv2d with an activation and a residual). In evaluation mode BatchNormalization is a
// per-channel affine map, so it folds into the convolution's weights and bias: W' = W·a, b' = (b − mean)·a + B with
// a = scale/√(var + ε). The fold is cached and recomputed when any of its six tensors changes (storage versions move
// on every in-place write: optimiser steps, load_state_dict), so a model fine-tuned and then evaluated sees its new
// weights. Training mode, and any run in which autograd records, take the node-by-node graph: BatchNormalization then
// uses batch statistics, and gradients reach scale and B as separate parameters. Where the machine has a blocked-channel
// kernel (Functional.Conv2dBlocked), a chain of blocks keeps its activations in that layout: reordered once where the
// chain starts, back to NCHW only for readers outside it (RunValues).
public sealed partial class OnnxModule
{
    /// <summary>One step of the inference plan: an imported node, or a convolution or product block standing for several.</summary>
    private sealed record PlanStep(OnnxNode? Node, ConvBlock? Block, MatmulBlock? Product = null, NormBlock? Norm = null)
    {
        public IEnumerable<string> Inputs => Node?.Inputs ?? Block?.Inputs ?? Product?.Inputs ?? Norm!.Inputs;

        public string[] Outputs => Node?.Outputs ?? [Block?.Output ?? Product?.Output ?? Norm!.Output];
    }

    /// <summary>
    /// LayerNormalization over the last axis written out as ops, as PyTorch exports it from BERT-style models before
    /// opset 17: d = x − ReduceMean(x); y = d / Sqrt(ReduceMean(Pow(d, 2)) + ε) · γ + β — nine nodes and eight passes
    /// over the activations, run as one <see cref="Functional.LayerNorm"/> while the exponent is 2 and γ, β fit.
    /// </summary>
    private sealed record NormBlock(OnnxNode Mean, OnnxNode Sub, OnnxNode Pow, OnnxNode Variance, OnnxNode AddEps, OnnxNode Sqrt,
        OnnxNode Div, OnnxNode Scale, OnnxNode Shift)
    {
        public OnnxNode[] Nodes => [Mean, Sub, Pow, Variance, AddEps, Sqrt, Div, Scale, Shift];

        public string X => Mean.Inputs[0];
        public string Output => Shift.Outputs[0];
        public string Exponent => GeluNodes.Other(Pow, Sub.Outputs[0]);
        public string Epsilon => GeluNodes.Other(AddEps, Variance.Outputs[0]);
        public string Gamma => GeluNodes.Other(Scale, Div.Outputs[0]);
        public string Beta => GeluNodes.Other(Shift, Scale.Outputs[0]);

        public IEnumerable<string> Inputs
        {
            get
            {
                var inner = Nodes.Select(n => n.Outputs[0]).ToHashSet();
                return Nodes.SelectMany(n => n.Inputs).Where(i => i != "" && !inner.Contains(i)).Distinct();
            }
        }
    }

    /// <summary>
    /// A MatMul by a constant weight [in, out] and the Add of a constant bias [out] after it, run as one product from
    /// the weight packed once (<see cref="PackedMatmulWeight"/>) with the bias in GEMM's epilogue: a transformer's
    /// projections, where packing the weight on every call cost as much as the product at batch 1.
    /// </summary>
    private sealed class MatmulBlock(OnnxNode matmul, string? bias, GeluNodes? gelu, string output)
    {
        public OnnxNode Matmul { get; } = matmul;
        public string? Bias { get; } = bias;
        public GeluNodes? Gelu { get; } = gelu;
        public string Output { get; } = output;

        public IEnumerable<string> Inputs =>
            Matmul.Inputs.Concat(Bias is null ? [] : [Bias]).Concat(Gelu?.Nodes.SelectMany(n => n.Inputs).Where(i => !Gelu.Internal.Contains(i)) ?? []).Distinct();

        public PackedMatmulWeight? Packed;
    }

    /// <summary>
    /// GELU written out as ops, as PyTorch exports it from BERT-style models: y = (h · (erf(h / √2) + 1)) · 0.5. The
    /// product block applies it in GEMM's epilogue (<see cref="Activation.Gelu"/>, the same function) while its three
    /// constants hold those values; parameters can be fine-tuned, so they are checked on every run.
    /// </summary>
    private sealed record GeluNodes(OnnxNode Div, OnnxNode Erf, OnnxNode AddOne, OnnxNode Mul, OnnxNode Half)
    {
        public OnnxNode[] Nodes => [Div, Erf, AddOne, Mul, Half];

        /// <summary>The values only these nodes read and write (the block's input h included).</summary>
        public HashSet<string> Internal => [Div.Inputs[0], .. Nodes.Select(n => n.Outputs[0])];

        /// <summary>The constant operand of a binary node: the input other than <paramref name="value"/>.</summary>
        public static string Other(OnnxNode node, string value) => node.Inputs[0] == value ? node.Inputs[1] : node.Inputs[0];
    }

    /// <summary>A Conv and the nodes fused into it; the block's output is the last node's.</summary>
    private sealed class ConvBlock(OnnxNode conv, OnnxNode? norm, string? residual, bool relu, string output)
    {
        public OnnxNode Conv { get; } = conv;
        public OnnxNode? Norm { get; } = norm;
        public string? Residual { get; } = residual;
        public bool Relu { get; } = relu;
        public string Output { get; } = output;

        public IEnumerable<string> Inputs => Conv.Inputs.Concat(Norm?.Inputs.Skip(1) ?? []).Concat(Residual is null ? [] : [Residual]).Where(i => i != "");

        // The folded weight and bias, and the storage versions of the tensors they were computed from.
        public int[]? FoldedVersions;
        public Tensor? FoldedWeight, FoldedBias;

        // The convolution's weight (the folded one, or the Conv's own) packed for GEMM once rather than on every run.
        public PackedConv2dWeight? Packed;

        /// <summary>Whether the block can run on blocked-channel activations (<see cref="Functional.Conv2dBlocked"/>).</summary>
        public bool Blockable;

        /// <summary>
        /// Whether the block can write blocked-channel activations, from blocks or from NCHW (<see cref="Functional.Conv2dIntoBlocks"/>:
        /// ResNet's 3-channel stem).
        /// </summary>
        public bool BlockableOutput;

        /// <summary>
        /// Whether the block writes its output blocked: every reader is a blockable block (as its input or residual) or a
        /// max pool whose readers all are.
        /// </summary>
        public bool BlockedOutput;
    }

    /// <summary>
    /// A run's values. Between convolution blocks the activations stay in the blocked-channel layout [N, C / b, H, W, b]
    /// (<see cref="Functional.Conv2dBlocked"/>; ONNX Runtime's NCHWc): reordered once where the chain starts, and back
    /// to NCHW only for a reader outside it (<see cref="Lookup"/>), not around every convolution. A value may be held in
    /// either layout or both.
    /// </summary>
    private sealed class RunValues : Dictionary<string, Tensor>
    {
        public Dictionary<string, Tensor> Blocked { get; } = [];
    }

    private readonly List<PlanStep> _plan = [];

    /// <summary>For tests: whether the plan keeps activations blocked between convolutions (false: NCHW throughout).</summary>
    internal bool BlockedPlan { get; set; } = true;

    /// <summary>For tests: how many convolution blocks write their output blocked for blockable readers.</summary>
    internal int BlockedOutputs => _plan.Count(s => s.Block?.BlockedOutput == true);

    /// <summary>For tests: how many max pools the plan expects to run on blocks (their input written blocked for them).</summary>
    internal int BlockedPools => _blockedPools.Count;

    /// <summary>For tests: how many times a pool ran on blocks.</summary>
    internal int BlockedPoolRuns { get; private set; }

    private readonly HashSet<OnnxNode> _blockedPools = [];
    private readonly Dictionary<string, int> _planLastUse = [];

    /// <summary>
    /// How many Conv chains the inference plan fuses, how many BatchNormalizations it folds, how many MatMuls by a
    /// constant weight it runs from packed weights, and how many layer norms written out as ops it runs as one (for
    /// the summary and tests).
    /// </summary>
    public (int Convolutions, int FoldedNorms, int Products, int LayerNorms) FusedBlocks =>
        (_plan.Count(s => s.Block is not null), _plan.Count(s => s.Block?.Norm is not null), _plan.Count(s => s.Product is not null),
         _plan.Count(s => s.Norm is not null));

    private void BuildInferencePlan()
    {
        var readers = new Dictionary<string, List<int>>();
        for (int i = 0; i < _nodes.Count; i++)
            foreach (var name in _nodes[i].Inputs.Where(n => n != "").Distinct())
                (readers.TryGetValue(name, out var list) ? list : readers[name] = []).Add(i);
        var graphOutputs = Outputs.Select(o => o.Name).ToHashSet();
        var absorbed = new HashSet<OnnxNode>();
        OnnxNode? SoleReader(string value) => SoleReaderOf(value, readers, graphOutputs, absorbed);

        var blockAt = new Dictionary<OnnxNode, ConvBlock>(); // keyed by the block's last node, where it runs
        var blockOf = new Dictionary<OnnxNode, ConvBlock>(); // every node of a block
        foreach (var conv in _nodes.Where(n => n.OpType == "Conv"))
        {
            if (!_weights.TryGetValue(conv.Inputs.ElementAtOrDefault(1) ?? "", out var weight) || weight.Rank != 4) continue;
            string bias = conv.Inputs.ElementAtOrDefault(2) ?? "";
            if (bias != "" && !_weights.ContainsKey(bias)) continue;
            var chain = new List<OnnxNode> { conv };
            OnnxNode? norm = null;
            if (SoleReader(chain[^1].Outputs[0]) is { OpType: "BatchNormalization" } bn && bn.Inputs[0] == chain[^1].Outputs[0]
                && FoldsInto(bn, weight.Shape[0], graphOutputs, readers))
                chain.Add(norm = bn);
            string? residual = null;
            if (SoleReader(chain[^1].Outputs[0]) is { OpType: "Add", Inputs.Length: 2 } add)
            {
                residual = add.Inputs[0] == chain[^1].Outputs[0] ? add.Inputs[1] : add.Inputs[0];
                chain.Add(add);
            }
            bool relu = false;
            if (SoleReader(chain[^1].Outputs[0]) is { OpType: "Relu" } r)
            {
                chain.Add(r);
                relu = true;
            }
            if (chain.Count == 1) continue;
            var last = chain[^1];
            absorbed.UnionWith(chain);
            var block = blockAt[last] = new ConvBlock(conv, norm, residual, relu, last.Outputs[0])
            {
                Blockable = Blockable(conv, weight), BlockableOutput = BlockableOutput(conv, weight),
            };
            foreach (var node in chain) blockOf[node] = block;
        }
        // A value stays blocked when only blockable blocks read it, as their input or their residual, or (pools) max
        // pools whose outputs only such blocks read (OnnxOps.MaxPoolBlocked; one that cannot run so gets NCHW).
        bool ReadBlocked(string value, Func<OnnxNode, bool> pool) =>
            !graphOutputs.Contains(value) && readers.TryGetValue(value, out var valueReaders)
            && valueReaders.All(i => blockOf.TryGetValue(_nodes[i], out var reader) && reader.Blockable
                    && (_nodes[i] == reader.Conv && reader.Conv.Inputs.Count(n => n == value) == 1 && reader.Conv.Inputs[0] == value
                        || reader.Residual == value && _nodes[i] != reader.Conv)
                || pool(_nodes[i]) && _nodes[i].Inputs[0] == value);
        _blockedPools.UnionWith(_nodes.Where(n => n is { OpType: "MaxPool", Inputs.Length: 1 } && n.Outputs.Skip(1).All(o => o == "")
            && ReadBlocked(n.Outputs[0], _ => false)));
        foreach (var block in blockAt.Values)
            block.BlockedOutput = block.BlockableOutput && ReadBlocked(block.Output, _blockedPools.Contains);
        // A pool whose producer does not write blocks (not a block, or one that cannot) is not counted.
        _blockedPools.RemoveWhere(pool => !blockAt.Values.Any(b => b.BlockedOutput && b.Output == pool.Inputs[0]));
        var productAt = new Dictionary<OnnxNode, MatmulBlock>();
        foreach (var matmul in _nodes.Where(n => n.OpType == "MatMul" && n.Inputs.Length == 2))
        {
            if (!_weights.TryGetValue(matmul.Inputs[1], out var weight) || weight.Rank != 2 || weight.Numel == 0
                || weight.DType is not (DType.Float32 or DType.Float64) || absorbed.Contains(matmul)) continue;
            var last = matmul;
            string? bias = null;
            if (SoleReader(matmul.Outputs[0]) is { OpType: "Add", Inputs.Length: 2 } add)
            {
                string other = add.Inputs[0] == matmul.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
                if (_weights.TryGetValue(other, out var b) && b.Rank == 1 && b.Shape[0] == weight.Shape[1] && b.DType == weight.DType)
                {
                    bias = other;
                    last = add;
                }
            }
            var gelu = GeluAfter(last.Outputs[0], readers, graphOutputs, absorbed);
            absorbed.Add(matmul);
            absorbed.Add(last);
            if (gelu is not null)
            {
                absorbed.UnionWith(gelu.Nodes);
                last = gelu.Half;
            }
            productAt[last] = new MatmulBlock(matmul, bias, gelu, last.Outputs[0]);
        }
        var normAt = new Dictionary<OnnxNode, NormBlock>();
        foreach (var mean in _nodes.Where(n => n.OpType == "ReduceMean"))
            if (LayerNormAt(mean, readers, graphOutputs, absorbed) is { } norm)
            {
                absorbed.UnionWith(norm.Nodes);
                normAt[norm.Shift] = norm;
            }
        // Every node of a chain between the Conv and the block's last node has a single reader, so running the block
        // where its last node was keeps the order valid (the residual is computed by then).
        foreach (var node in _nodes)
        {
            if (blockAt.TryGetValue(node, out var block)) _plan.Add(new PlanStep(null, block));
            else if (productAt.TryGetValue(node, out var product)) _plan.Add(new PlanStep(null, null, product));
            else if (normAt.TryGetValue(node, out var norm)) _plan.Add(new PlanStep(null, null, null, norm));
            else if (!absorbed.Contains(node)) _plan.Add(new PlanStep(node, null));
        }
        for (int i = 0; i < _plan.Count; i++)
            foreach (var name in _plan[i].Inputs)
                if (name != "") _planLastUse[name] = i;
    }

    // The node that alone reads `value` (once; and the graph does not return it), else null. A node already in a block
    // is not taken again (both branches of a residual block end in the same Add).
    private OnnxNode? SoleReaderOf(string value, Dictionary<string, List<int>> readers, HashSet<string> graphOutputs, HashSet<OnnxNode> absorbed) =>
        !graphOutputs.Contains(value) && readers.TryGetValue(value, out var list) && list.Count == 1 && _nodes[list[0]].Inputs.Count(i => i == value) == 1
        && !absorbed.Contains(_nodes[list[0]])
            ? _nodes[list[0]] : null;

    // The nodes of a fused block whose pattern did not hold at run time, run as written; `values` holds what the
    // block computed so far, anything else comes from `lookup`.
    private Tensor RunAsWritten(IEnumerable<OnnxNode> nodes, Dictionary<string, Tensor> values, Func<string, Tensor> lookup, string output)
    {
        foreach (var node in nodes)
            values[node.Outputs[0]] = RunNode(node, node.Inputs.Select(n => n == "" ? null : values.TryGetValue(n, out var t) ? t : lookup(n)).ToArray(), false)[0];
        return values[output];
    }

    // The five GELU nodes reading `h` (see GeluNodes), if they are there with their constants and nothing else reads
    // what lies between them.
    private GeluNodes? GeluAfter(string h, Dictionary<string, List<int>> readers, HashSet<string> graphOutputs, HashSet<OnnxNode> absorbed)
    {
        if (graphOutputs.Contains(h) || !readers.TryGetValue(h, out var hReaders) || hReaders.Count != 2) return null;
        var hNodes = hReaders.Select(i => _nodes[i]).ToArray();
        var div = hNodes.FirstOrDefault(n => n is { OpType: "Div", Inputs.Length: 2 } && n.Inputs[0] == h && n.Inputs[1] != h);
        var mul = hNodes.FirstOrDefault(n => n is { OpType: "Mul", Inputs.Length: 2 } && n.Inputs.Count(i => i == h) == 1);
        if (div is null || mul is null || absorbed.Contains(div) || absorbed.Contains(mul)) return null;
        OnnxNode? Only(string value, string op) => SoleReaderOf(value, readers, graphOutputs, absorbed) is { } n && n.OpType == op ? n : null;
        if (Only(div.Outputs[0], "Erf") is not { } erf || Only(erf.Outputs[0], "Add") is not { Inputs.Length: 2 } addOne
            || Only(addOne.Outputs[0], "Mul") is not { } product || product != mul || Only(mul.Outputs[0], "Mul") is not { Inputs.Length: 2 } half)
            return null;
        var nodes = new GeluNodes(div, erf, addOne, mul, half);
        return GeluConstantsHold(nodes, name => _weights.TryGetValue(name, out var w) ? w : _constants.GetValueOrDefault(name)) ? nodes : null;
    }

    // The nine nodes of a LayerNormalization written out (see NormBlock) starting at `mean`, if they are there, reduce
    // over the last axis only, and nothing else reads what lies between them.
    private NormBlock? LayerNormAt(OnnxNode mean, Dictionary<string, List<int>> readers, HashSet<string> graphOutputs, HashSet<OnnxNode> absorbed)
    {
        if (!ReducesLastAxis(mean) || absorbed.Contains(mean)) return null;
        string x = mean.Inputs[0];
        OnnxNode? Only(string value, string op, int inputs = 2) =>
            SoleReaderOf(value, readers, graphOutputs, absorbed) is { } n && n.OpType == op && n.Inputs.Length == inputs ? n : null;
        if (Only(mean.Outputs[0], "Sub") is not { } sub || sub.Inputs[0] != x || sub.Inputs[1] != mean.Outputs[0]) return null;
        string d = sub.Outputs[0];
        if (graphOutputs.Contains(d) || !readers.TryGetValue(d, out var dReaders) || dReaders.Count != 2) return null;
        var pow = dReaders.Select(i => _nodes[i]).FirstOrDefault(n => n is { OpType: "Pow", Inputs.Length: 2 } && n.Inputs[0] == d && n.Inputs[1] != d);
        var div = dReaders.Select(i => _nodes[i]).FirstOrDefault(n => n is { OpType: "Div", Inputs.Length: 2 } && n.Inputs[0] == d && n.Inputs[1] != d);
        if (pow is null || div is null || absorbed.Contains(pow) || absorbed.Contains(div)) return null;
        if (Only(pow.Outputs[0], "ReduceMean", pow.Opset >= 18 ? 2 : 1) is not { } variance || !ReducesLastAxis(variance)
            || Only(variance.Outputs[0], "Add") is not { } addEps || Only(addEps.Outputs[0], "Sqrt", 1) is not { } sqrt
            || Only(sqrt.Outputs[0], "Div") != div || Only(div.Outputs[0], "Mul") is not { } scale || Only(scale.Outputs[0], "Add") is not { } shift)
            return null;
        var norm = new NormBlock(mean, sub, pow, variance, addEps, sqrt, div, scale, shift);
        bool Known(string name) => _weights.ContainsKey(name) || _constants.ContainsKey(name);
        return Known(norm.Exponent) && Known(norm.Epsilon) && Known(norm.Gamma) && Known(norm.Beta) ? norm : null;
    }

    // ReduceMean over [-1] with the dimension kept: the axes as an attribute, or from opset 18 a constant input.
    private bool ReducesLastAxis(OnnxNode reduce)
    {
        if (reduce.Int("keepdims", 1) == 0) return false;
        long[]? axes = reduce.Opset < 18 ? reduce.Ints("axes")
            : reduce.Inputs.Length > 1 && _constants.TryGetValue(reduce.Inputs[1], out var a) && a.DType == DType.Int64 ? a.ToArray<long>() : null;
        return axes is [-1];
    }

    private Tensor RunNorm(NormBlock block, Func<string, Tensor> lookup)
    {
        try
        {
            var x = lookup(block.X);
            Tensor exponent = lookup(block.Exponent), epsilon = lookup(block.Epsilon), gamma = lookup(block.Gamma), beta = lookup(block.Beta);
            int c = x.Rank == 0 ? -1 : x.Shape[^1];
            bool fuses = x.DType.IsFloatingPoint() && exponent.Numel == 1 && exponent.Item() == 2 && epsilon.Numel == 1
                && gamma is { Rank: 1 } && gamma.Shape[0] == c && gamma.DType == x.DType && beta is { Rank: 1 } && beta.Shape[0] == c && beta.DType == x.DType;
            if (fuses) return Functional.LayerNorm(x, [c], gamma, beta, epsilon.Item());
            // Not a layer norm after all (another exponent, γ broadcast otherwise…): the nodes run as written.
            return RunAsWritten(block.Nodes, [], lookup, block.Output);
        }
        catch (Exception e) when (IsOpError(e)) { throw AtNode(block.Shift, e); }
    }

    // Whether the divisor is √2, the added constant 1 and the factor 0.5 (as float32 rounds them).
    private static bool GeluConstantsHold(GeluNodes gelu, Func<string, Tensor?> value)
    {
        static bool Is(Tensor? t, double expected) =>
            t is { Numel: 1 } && t.DType.IsFloatingPoint() && Math.Abs(t.Item() - expected) <= 1e-6 * expected;
        return Is(value(gelu.Div.Inputs[1]), Math.Sqrt(2)) && Is(value(GeluNodes.Other(gelu.AddOne, gelu.Erf.Outputs[0])), 1)
            && Is(value(GeluNodes.Other(gelu.Half, gelu.Mul.Outputs[0])), 0.5);
    }

    // A BatchNormalization folds when its statistics and affine parameters are initializers of one value per output
    // channel and nothing reads its training-only outputs.
    private bool FoldsInto(OnnxNode bn, int channels, HashSet<string> graphOutputs, Dictionary<string, List<int>> readers)
    {
        if (bn.Inputs.Length < 5 || bn.Opset < 9 && bn.Int("spatial", 1) == 0) return false;
        if (bn.Outputs.Skip(1).Any(o => o != "" && (graphOutputs.Contains(o) || readers.ContainsKey(o)))) return false;
        return bn.Inputs.Skip(1).Take(4).All(name => _weights.TryGetValue(name, out var t) && t.Numel == channels);
    }

    // Whether the direct kernel can take the Conv on blocked-channel activations: whole blocks of this machine's size
    // (Functional.Conv2dChannelBlock) of input and output channels per group, 2-D, equal strides of 1 or 2. The rest
    // (the input's size, the padding) is checked when it runs.
    private static bool Blockable(OnnxNode conv, Tensor weight)
    {
        var strides = conv.SmallInts("strides") ?? [1, 1];
        return BlockableOutput(conv, weight) && weight.Shape[1] % Functional.Conv2dChannelBlock(weight.DType) == 0
            && strides is [var sh, var sw] && sh == sw && sh is 1 or 2;
    }

    // Whether the direct kernel can write the Conv's output blocked from an NCHW input (Functional.Conv2dIntoBlocks):
    // whole blocks of output channels per group, 2-D.
    private static bool BlockableOutput(OnnxNode conv, Tensor weight)
    {
        int block = Functional.Conv2dChannelBlock(weight.DType), groups = conv.SmallInt("group", 1);
        return block > 0 && weight.Rank == 4 && groups > 0 && weight.Shape[0] % (groups * block) == 0;
    }

    /// <summary>Whether a run takes the fused plan: evaluation mode, and nothing for autograd to record.</summary>
    private bool Fusing(bool recording) => !Training && !recording;

    /// <summary>Runs a block: its output, and whether it is in the blocked-channel layout (then held in <see cref="RunValues.Blocked"/>).</summary>
    private (Tensor Output, bool Blocked) RunBlock(ConvBlock block, RunValues values)
    {
        var conv = block.Conv;
        Tensor lookup(string name) => Lookup(values, name);
        try
        {
            Tensor weight = lookup(conv.Inputs[1]);
            Tensor? bias = conv.Inputs.Length > 2 && conv.Inputs[2] != "" ? lookup(conv.Inputs[2]) : null;
            if (block.Norm is not null) (weight, bias) = Folded(block, weight, bias);
            // A new fold is a new tensor; the Conv's own weight repacks itself when its storage version moves.
            if (!ReferenceEquals(block.Packed?.Weight, weight) && weight.Rank == 4 && weight.DType is DType.Float32 or DType.Float64)
                block.Packed = new PackedConv2dWeight(weight, conv.SmallInt("group", 1));
            if ((block.Blockable || block.BlockedOutput) && block.Packed is { } packed && RunBlocked(block, values, packed, bias) is { } blocked)
                return (blocked, true);
            var residual = block.Residual is null ? null : lookup(block.Residual);
            return (OnnxOps.FusedConv(conv, lookup(conv.Inputs[0]), weight, bias, residual, block.Relu, block.Packed), false);
        }
        catch (Exception e) when (IsOpError(e)) { throw AtNode(conv, e); }
    }

    // The block on blocked-channel activations, where its input is blocked already or its output is to be (the input,
    // and the residual, reordered then and kept for their other readers); null where it does not run so.
    private Tensor? RunBlocked(ConvBlock block, RunValues run, PackedConv2dWeight packed, Tensor? bias)
    {
        int channels = Functional.Conv2dChannelBlock(packed.Weight.DType);
        string input = block.Conv.Inputs[0];
        if (channels == 0 || !BlockedPlan) return null;
        // A value held blocked in this block size.
        bool TryBlocked(string name, out Tensor t) => run.Blocked.TryGetValue(name, out t!) && t.Shape[4] == channels;
        // The NCHW shape of a value, blocked or not.
        Shape ShapeOf(string name) => TryBlocked(name, out var t)
            ? new Shape(t.Shape[0], t.Shape[1] * channels, t.Shape[2], t.Shape[3]) : Lookup(run, name).Shape;
        Tensor Blocked(string name) => TryBlocked(name, out var t) ? t : run.Blocked[name] = Functional.ToChannelBlocks(Lookup(run, name), channels);
        bool inputBlocked = TryBlocked(input, out _);
        if (!inputBlocked && !block.BlockedOutput) return null;
        // A block whose input cannot be blocked (the stem's 3 channels) reads NCHW and writes blocks.
        bool readsBlocks = block.Blockable;
        var x = ShapeOf(input);
        if (x.Rank != 4 || readsBlocks && x[1] % channels != 0 || !inputBlocked && Lookup(run, input).DType != packed.Weight.DType) return null;
        var residual = block.Residual is { } r ? ShapeOf(r) : (Shape?)null;
        if (residual is { } rs && (rs.Rank != 4 || rs[1] % channels != 0)) return null;
        return OnnxOps.FusedConvBlocked(block.Conv, x, () => readsBlocks ? Blocked(input) : Lookup(run, input), packed, bias, residual,
            () => block.Residual is null ? null : Blocked(block.Residual), block.Relu, intoBlocks: readsBlocks ? 0 : channels);
    }

    // A MaxPool whose input is held blocked (its producer writes blocks because the pool's readers take them) runs
    // on the blocks and keeps its output blocked; likewise an AveragePool whose input is held blocked only (a chain's
    // last block writes blocks whoever reads them: ResNet's final pool then needs no reorder of its 25 K inputs, only
    // of its 512 outputs). Null where it cannot (then it runs on NCHW, see Lookup).
    private Tensor? RunPoolBlocked(OnnxNode pool, RunValues run)
    {
        bool max = pool.OpType == "MaxPool";
        if (!BlockedPlan || (max ? !_blockedPools.Contains(pool) : run.ContainsKey(pool.Inputs[0]) || pool.Outputs.Length != 1)
            || !run.Blocked.TryGetValue(pool.Inputs[0], out var x))
            return null;
        try
        {
            var y = max ? OnnxOps.MaxPoolBlocked(pool, x) : OnnxOps.AvgPoolBlocked(pool, x);
            if (y is not null) BlockedPoolRuns++;
            return y;
        }
        catch (Exception e) when (IsOpError(e)) { throw AtNode(pool, e); }
    }

    private Tensor RunProduct(MatmulBlock block, Func<string, Tensor> lookup)
    {
        var matmul = block.Matmul;
        try
        {
            var weight = lookup(matmul.Inputs[1]);
            if (!ReferenceEquals(block.Packed?.Weight, weight)) block.Packed = new PackedMatmulWeight(weight);
            bool gelu = block.Gelu is { } g && GeluConstantsHold(g, lookup);
            var h = Functional.Matmul(lookup(matmul.Inputs[0]), block.Packed, block.Bias is null ? null : lookup(block.Bias), gelu ? Activation.Gelu : Activation.None);
            if (block.Gelu is null || gelu) return h;
            // Its constants were changed (fine-tuned): the GELU nodes run as written.
            return RunAsWritten(block.Gelu.Nodes, new() { [block.Gelu.Div.Inputs[0]] = h }, lookup, block.Output);
        }
        catch (Exception e) when (IsOpError(e)) { throw AtNode(matmul, e); }
    }

    private (Tensor Weight, Tensor Bias) Folded(ConvBlock block, Tensor weight, Tensor? bias)
    {
        var norm = block.Norm!;
        Tensor scale = _weights[norm.Inputs[1]], shift = _weights[norm.Inputs[2]], mean = _weights[norm.Inputs[3]], variance = _weights[norm.Inputs[4]];
        int[] versions = [weight.Storage.Version, bias?.Storage.Version ?? -1, scale.Storage.Version, shift.Storage.Version,
            mean.Storage.Version, variance.Storage.Version];
        if (block.FoldedVersions is { } cached && cached.AsSpan().SequenceEqual(versions)) return (block.FoldedWeight!, block.FoldedBias!);
        int channels = weight.Shape[0];
        using (new NoGrad())
        using (MemoryScope.Persistent()) // the fold outlives the run's scope
        {
            // In double, so that the folded weights round once.
            Tensor D(Tensor t) => t.To(DType.Float64).Reshape(channels);
            var a = D(scale).Div(D(variance).Add(norm.Float("epsilon", 1e-5f)).Sqrt());
            var b = (bias is null ? Tensor.Zeros(new Shape(channels), DType.Float64) : D(bias)).Sub(D(mean)).Mul(a).Add(D(shift));
            block.FoldedWeight = weight.To(DType.Float64).Mul(a.Reshape(channels, 1, 1, 1)).To(weight.DType).Contiguous();
            block.FoldedBias = b.To(weight.DType).Contiguous();
        }
        block.FoldedVersions = versions;
        return (block.FoldedWeight, block.FoldedBias);
    }
}
