using System.Text;
using Loom.Memory;

namespace Loom.Onnx;

/// <summary>An input or output of an imported graph: its name, element type and dimensions (a symbolic name such as "N" where the file gives one, "?" where it gives none).</summary>
public sealed record OnnxValueInfo(string Name, string ElementType, IReadOnlyList<string> Dims)
{
    public override string ToString() => $"{Name} {ElementType} [{string.Join(", ", Dims)}]";
}

/// <summary>
/// An ONNX graph imported as a Loom module: floating-point initializers become <see cref="Parameter"/>s (so the
/// model fine-tunes with any optimiser), BatchNormalization statistics become buffers, and the nodes run as Loom's
/// differentiable ops in the file's topological order. Nodes whose inputs are all constants (Shape arithmetic,
/// Constant, ConstantOfShape of a fixed shape…) are folded once at load.
/// </summary>
/// <remarks>
/// Loading validates the whole file before running anything: unknown ops (named with their node and opset), missing
/// or duplicate value names, cycles, malformed tensors and sizes beyond the data present are all
/// <see cref="OnnxException"/>s. <see cref="Module{TIn,TOut}.Forward"/> runs a one-input graph and returns its first
/// output; <see cref="Run(IReadOnlyDictionary{string, Tensor})"/> takes and returns every named value.
/// </remarks>
public sealed partial class OnnxModule : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly List<OnnxNode> _nodes = [];
    private readonly Dictionary<string, Tensor> _constants = [];
    private readonly Dictionary<string, Tensor> _weights = [];
    private readonly Dictionary<string, int> _lastUse = [];
    private readonly Dictionary<string, int> _foldedOps = [];

    private OnnxModule(ModelProto model, string source)
    {
        Source = source;
        var graph = model.Graph ?? throw new OnnxException($"{source}: the model has no graph");
        IrVersion = model.IrVersion;
        Producer = $"{model.ProducerName} {model.ProducerVersion}".Trim();
        Opset = ReadOpset(model, source);

        var initializers = new Dictionary<string, TensorProto>();
        foreach (var init in graph.Initializer)
        {
            if (string.IsNullOrEmpty(init.Name)) throw new OnnxException($"{source}: an initializer has no name");
            if (!initializers.TryAdd(init.Name, init)) throw new OnnxException($"{source}: initializer '{init.Name}' is defined twice");
        }
        if (graph.SparseInitializer.Count > 0) throw new OnnxException($"{source}: sparse initializers are not supported");
        Inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).Select(Describe).ToList();
        Outputs = graph.Output.Select(Describe).ToList();
        if (Inputs.Count == 0) throw new OnnxException($"{source}: the graph has no inputs");
        if (Outputs.Count == 0) throw new OnnxException($"{source}: the graph has no outputs");

        var nodes = ReadNodes(graph, source);
        var sorted = TopologicalOrder(nodes, Inputs.Select(i => i.Name).Concat(initializers.Keys).ToHashSet(), source);
        foreach (var o in Outputs)
            if (!initializers.ContainsKey(o.Name) && !Inputs.Any(i => i.Name == o.Name) && !nodes.Any(n => n.Outputs.Contains(o.Name)))
                throw new OnnxException($"{source}: graph output '{o.Name}' is never computed");

        RegisterInitializers(initializers, sorted);
        Fold(sorted);
        for (int i = 0; i < _nodes.Count; i++)
            foreach (var name in _nodes[i].Inputs)
                if (name != "") _lastUse[name] = i;
        BuildInferencePlan();
    }

    /// <summary>Where the model came from (its path), for messages.</summary>
    public string Source { get; }

    public long IrVersion { get; }

    /// <summary>The default-domain opset the file imports.</summary>
    public int Opset { get; }

    public string Producer { get; }

    /// <summary>The graph's inputs (initializers listed as inputs by old exporters excluded).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>How many nodes of each op the file has (folded ones included), most frequent first.</summary>
    public IReadOnlyList<(string Op, int Count)> OpCounts =>
        _nodes.Select(n => n.OpType).Concat(_foldedOps.SelectMany(f => Enumerable.Repeat(f.Key, f.Value)))
            .GroupBy(o => o).Select(g => (g.Key, g.Count())).OrderByDescending(g => g.Item2).ThenBy(g => g.Key).ToList();

    /// <summary>Reads an ONNX file; any problem with it is an <see cref="OnnxException"/> naming the file.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="outputs">
    /// Where the graph ends, if not at the file's own outputs: values some node computes. The nodes and initializers
    /// only later values need are dropped, as ONNX Runtime's extractor does, so a pretrained network's intermediate
    /// features run at input sizes its head would reject (a fixed 7×7 average pool).
    /// </param>
    public static OnnxModule Load(string path, IReadOnlyList<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new OnnxException($"{path}: no such file");
            // Protobuf messages are limited to 2 GiB; a larger file cannot be a self-contained ONNX model.
            if (info.Length > int.MaxValue) throw new OnnxException($"{path}: {info.Length} bytes is more than an ONNX file without external data can hold");
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e) { throw new OnnxException($"{path}: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new OnnxException($"{path}: {e.Message}", e); }
        return Load(bytes, path, outputs);
    }

    /// <summary>Reads an ONNX model from its bytes; <paramref name="source"/> names it in messages.</summary>
    /// <param name="bytes">The serialised ModelProto.</param>
    /// <param name="source">What messages call the model.</param>
    /// <param name="outputs">Where the graph ends, if not at the model's own outputs (see <see cref="Load(string, IReadOnlyList{string})"/>).</param>
    public static OnnxModule Load(byte[] bytes, string source = "ONNX model", IReadOnlyList<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxException($"{source}: not a valid ONNX file ({e.Message.TrimEnd('.')})", e);
        }
        try
        {
            if (outputs is not null) EndAt(model.Graph ?? throw new OnnxException("the model has no graph"), outputs);
            var module = new OnnxModule(model, source);
            module.Eval();
            return module;
        }
        catch (OnnxException e) when (!e.Message.StartsWith($"{source}: ", StringComparison.Ordinal))
        {
            throw new OnnxException($"{source}: {e.Message}", e);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException or FormatException)
        {
            throw new OnnxException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Runs the graph on named inputs and returns every graph output by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new RunValues();
        foreach (var input in Inputs)
        {
            if (!inputs.TryGetValue(input.Name, out var t))
                throw new OnnxException($"{Source}: input '{input.Name}' was not given (the graph takes {string.Join(", ", Inputs.Select(i => i.Name))})");
            values[input.Name] = t;
        }
        // Inference recycles the activations: a MemoryScope returns every storage the nodes allocate to the buffer pool
        // when the run ends (the outputs are kept), so the next run reuses warm arrays. Fresh ones cost more than the
        // ops here: a new 3 MB array (ResNet18's 64×112×112 activation) took 5 ms to zero and fault in, a ReLU over it
        // 0.2 ms. When autograd records, the activations belong to the graph and are left to the GC.
        bool recording = GradMode.ShouldRecord([.. values.Values, .. _weights.Values]);
        using var scope = recording ? null : new MemoryScope();
        var outputNames = Outputs.Select(o => o.Name).ToHashSet();
        bool fused = Fusing(recording);
        var lastUse = fused ? _planLastUse : _lastUse;
        int count = fused ? _plan.Count : _nodes.Count;
        for (int i = 0; i < count; i++)
        {
            var step = fused ? _plan[i] : new PlanStep(_nodes[i], null);
            Tensor[] results;
            bool blocked = false;
            if (step.Block is { } block)
            {
                (var y, blocked) = RunBlock(block, values);
                results = [y];
            }
            else if (step.Product is { } product) results = [RunProduct(product, name => Lookup(values, name))];
            else if (step.Norm is { } norm) results = [RunNorm(norm, name => Lookup(values, name))];
            else if (fused && step.Node is { OpType: "MaxPool" or "AveragePool" } pool && RunPoolBlocked(pool, values) is { } pooled)
            {
                results = [pooled];
                blocked = true;
            }
            else results = RunNode(step.Node!, step.Node!.Inputs.Select(name => name == "" ? null : Lookup(values, name)).ToArray(), Training);
            // Drop what no later node reads, so inference holds only the live activations (autograd keeps what backward needs).
            foreach (var name in step.Inputs)
                if (name != "" && lastUse.GetValueOrDefault(name, -1) == i && !outputNames.Contains(name))
                {
                    values.Remove(name);
                    values.Blocked.Remove(name);
                }
            for (int k = 0; k < step.Outputs.Length; k++)
                if (step.Outputs[k] != "") (blocked ? values.Blocked : values)[step.Outputs[k]] = results[k];
        }
        return Outputs.ToDictionary(o => o.Name, o => scope is null ? Lookup(values, o.Name) : KeepComputed(Lookup(values, o.Name), inputs));
    }

    // Keep passes a storage on to the enclosing scope, which would then recycle it: only storages computed in this run
    // may go there, never a weight's, a constant's or an input's that an output merely views (Identity, Reshape).
    private Tensor KeepComputed(Tensor output, IReadOnlyDictionary<string, Tensor> inputs)
    {
        bool owned = _weights.Values.Concat(_constants.Values).Concat(inputs.Values).Any(t => ReferenceEquals(t.Storage, output.Storage));
        return owned ? output : MemoryScope.Keep(output);
    }

    /// <summary>Runs the graph on its inputs in declaration order and returns its outputs in declaration order.</summary>
    public Tensor[] Run(params Tensor[] inputs)
    {
        if (inputs.Length != Inputs.Count)
            throw new OnnxException($"{Source}: the graph takes {Inputs.Count} input(s) ({string.Join(", ", Inputs.Select(i => i.Name))}), got {inputs.Length}");
        var outputs = Run(Inputs.Select((info, i) => (info.Name, inputs[i])).ToDictionary(p => p.Name, p => p.Item2));
        return Outputs.Select(o => outputs[o.Name]).ToArray();
    }

    protected override Tensor ForwardCore(Tensor input) => Run([input])[0];

    // Ops whose inputs or attributes changed form between opsets 7 and 13 (attribute axes became inputs, Softmax's 2-D
    // coercion went): a graph older than 13 that uses them cannot be written back at opset 17 node for node.
    private static readonly HashSet<string> ChangedBefore13 =
        ["Softmax", "LogSoftmax", "Squeeze", "Unsqueeze", "ReduceSum", "Split", "Pad", "Clip", "Slice", "Upsample", "Resize", "TopK"];

    /// <summary>
    /// Writes the graph back node for node, with the parameters' and running statistics' current values (an imported
    /// network, fine-tuned, exports again). Dropout becomes Identity; BatchNormalization loses the pre-9 `spatial`
    /// attribute (1, the only value with opset-9 meaning). Graphs newer than opset 17, and older graphs using an op
    /// whose form changed by 13, fail naming the op.
    /// </summary>
    public string ExportOnnx(OnnxExportContext onnx, string input)
    {
        string module = onnx.Scope == "" ? "(root)" : onnx.Scope;
        if (Inputs.Count != 1 || Outputs.Count != 1)
            throw new OnnxException($"export: module '{module}' (an ONNX graph of {Inputs.Count} inputs and {Outputs.Count} outputs) exports only with one of each");
        if (Opset > 17) throw new OnnxException($"export: module '{module}' (an ONNX graph of opset {Opset}) cannot be written at opset 17");
        var values = new Dictionary<string, string> { [Inputs[0].Name] = input };
        string Value(string name)
        {
            if (name == "") return "";
            if (values.TryGetValue(name, out var known)) return known;
            var value = _weights.TryGetValue(name, out var w) ? onnx.Parameter(w) : onnx.Constant(name, _constants[name]);
            return values[name] = value;
        }
        foreach (var node in _nodes)
        {
            if (Opset < 13 && ChangedBefore13.Contains(node.OpType))
                throw new OnnxException($"export: op '{node.OpType}' in module '{module}' changed form after this graph's opset {Opset}; Loom cannot write it at opset 17");
            var inputs = node.Inputs.Select(Value).ToList();
            var attributes = node.Proto.Attribute.Where(a => !(node.OpType == "BatchNormalization" && a.Name is "spatial" or "consumed_inputs")).ToArray();
            if (node.OpType == "BatchNormalization" && node.Has("spatial") && node.Int("spatial", 1) != 1)
                throw new OnnxException($"export: op 'BatchNormalization' (spatial = 0) in module '{module}' has no opset-17 form");
            int used = Array.FindLastIndex(node.Outputs, o => o != "") + 1;
            var outputs = node.OpType == "Dropout" ? [onnx.Op("Identity", [inputs[0]])] : onnx.Op(node.OpType, inputs, used, attributes);
            for (int k = 0; k < used; k++)
                if (node.Outputs[k] != "") values[node.Outputs[k]] = outputs[k];
        }
        return Value(Outputs[0].Name);
    }

    /// <summary>A few lines describing the graph: producer, opset, inputs, outputs, op counts and parameter count.</summary>
    public string Summary()
    {
        var text = new StringBuilder();
        text.AppendLine($"{Path.GetFileName(Source)}: ONNX IR {IrVersion}, opset {Opset}{(Producer == "" ? "" : $", from {Producer}")}");
        foreach (var i in Inputs) text.AppendLine($"  input   {i}");
        foreach (var o in Outputs) text.AppendLine($"  output  {o}");
        int total = _nodes.Count + _foldedOps.Values.Sum();
        text.AppendLine($"  {total} nodes ({_foldedOps.Values.Sum()} folded at load): {string.Join(", ", OpCounts.Select(c => $"{c.Op} {c.Count}"))}");
        text.AppendLine($"  {ParameterCount():N0} parameters in {Parameters().Count()} tensors, {NamedBuffers().Count()} buffers, {_constants.Count} constants");
        return text.ToString().TrimEnd();
    }

    private Tensor Lookup(Dictionary<string, Tensor> values, string name) =>
        values.TryGetValue(name, out var t) ? t
        : values is RunValues run && run.Blocked.TryGetValue(name, out var blocked) ? values[name] = Functional.FromChannelBlocks(blocked)
        : _weights.TryGetValue(name, out var w) ? w
        : _constants.TryGetValue(name, out var c) ? c
        : throw new OnnxException($"{Source}: value '{name}' is not available");

    /// <summary>Whether an exception from running a node (or a fused block) is the model's fault, to report as the file's.</summary>
    private static bool IsOpError(Exception e) =>
        e is OnnxException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException;

    /// <summary>An op's error as an <see cref="OnnxException"/> naming the file and the node.</summary>
    private OnnxException AtNode(OnnxNode node, Exception e) => new($"{Source}: {node.Describe()}: {e.Message}", e);

    private Tensor[] RunNode(OnnxNode node, Tensor?[] args, bool training)
    {
        Tensor[] results;
        try
        {
            results = OnnxOps.Registry[node.OpType](node, args, training);
        }
        catch (Exception e) when (IsOpError(e)) { throw AtNode(node, e); }
        for (int k = 0; k < node.Outputs.Length; k++)
            if (node.Outputs[k] != "" && k >= results.Length)
                throw new OnnxException($"{Source}: {node.Describe()}: output {k} ('{node.Outputs[k]}') is not supported");
        return results;
    }

    private static int ReadOpset(ModelProto model, string source)
    {
        var entry = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")
            ?? throw new OnnxException($"{source}: the model imports no default-domain opset");
        if (entry.Version < OnnxOps.MinOpset || entry.Version > OnnxOps.MaxOpset)
            throw new OnnxException($"{source}: opset {entry.Version} is outside the supported {OnnxOps.MinOpset}–{OnnxOps.MaxOpset}");
        return (int)entry.Version;
    }

    // Keeps the nodes the requested values depend on (a fixed point over value names, so file order does not matter)
    // and the initializers those nodes read; the requested values become the graph's outputs.
    private static void EndAt(GraphProto graph, IReadOnlyList<string> outputs)
    {
        if (outputs.Count == 0) throw new OnnxException("no outputs were asked for");
        var inputs = graph.Input.Select(i => i.Name).ToHashSet();
        foreach (var o in outputs)
            if (!inputs.Contains(o) && !graph.Node.Any(n => n.Output.Contains(o)))
                throw new OnnxException($"no node computes '{o}', so the graph cannot end there");
        var needed = outputs.ToHashSet();
        var kept = new bool[graph.Node.Count];
        for (bool grew = true; grew;)
        {
            grew = false;
            for (int i = 0; i < graph.Node.Count; i++)
            {
                if (kept[i] || !graph.Node[i].Output.Any(needed.Contains)) continue;
                kept[i] = grew = true;
                needed.UnionWith(graph.Node[i].Input.Where(v => v != ""));
            }
        }
        var nodes = graph.Node.Where((_, i) => kept[i]).ToList();
        var initializers = graph.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        var declared = graph.Input.Where(i => needed.Contains(i.Name) || !graph.Initializer.Any(t => t.Name == i.Name)).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        graph.Input.Clear();
        graph.Input.AddRange(declared);
        graph.Output.Clear();
        graph.Output.AddRange(outputs.Select(o => new ValueInfoProto { Name = o }));
    }

    private static OnnxValueInfo Describe(ValueInfoProto v)
    {
        var tensor = v.Type?.TensorType;
        string type = tensor is null ? "?" : OnnxDataType.Name(tensor.ElemType);
        var dims = tensor?.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString() : d.HasDimParam && d.DimParam != "" ? d.DimParam : "?").ToList() ?? [];
        return new OnnxValueInfo(v.Name, type, dims);
    }

    private List<OnnxNode> ReadNodes(GraphProto graph, string source)
    {
        var nodes = new List<OnnxNode>(graph.Node.Count);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var proto = graph.Node[i];
            string where = $"node '{(proto.Name == "" ? $"{proto.OpType}_{i}" : proto.Name)}' ({proto.OpType}, opset {Opset})";
            if (proto.Domain is not ("" or "ai.onnx"))
                throw new OnnxException($"{source}: {where}: op domain '{proto.Domain}' is not supported (only the default ONNX domain is)");
            if (!OnnxOps.Registry.ContainsKey(proto.OpType))
                throw new OnnxException($"{source}: {where}: op '{proto.OpType}' is not supported by Loom's ONNX import");
            try
            {
                nodes.Add(new OnnxNode(proto, Opset, i));
            }
            catch (OnnxException e) { throw new OnnxException($"{source}: {where}: {e.Message}", e); }
        }
        return nodes;
    }

    // Kahn's algorithm over value names: a node is ready once every input it names exists. Nodes left over form a
    // cycle or read a value nothing defines; both are reported by name rather than run in file order.
    private static List<OnnxNode> TopologicalOrder(List<OnnxNode> nodes, HashSet<string> defined, string source)
    {
        var producer = new Dictionary<string, OnnxNode>();
        foreach (var n in nodes)
            foreach (var o in n.Outputs)
                if (o != "" && (defined.Contains(o) || !producer.TryAdd(o, n)))
                    throw new OnnxException($"{source}: {n.Describe()}: value '{o}' is defined more than once");
        foreach (var n in nodes)
            foreach (var i in n.Inputs)
                if (i != "" && !defined.Contains(i) && !producer.ContainsKey(i))
                    throw new OnnxException($"{source}: {n.Describe()}: input '{i}' is not a graph input, an initializer or any node's output");

        var waiting = nodes.ToDictionary(n => n, n => n.Inputs.Where(i => i != "" && !defined.Contains(i)).Distinct().Count());
        var readers = new Dictionary<string, List<OnnxNode>>();
        foreach (var n in nodes)
            foreach (var i in n.Inputs.Where(i => i != "" && !defined.Contains(i)).Distinct())
                (readers.TryGetValue(i, out var list) ? list : readers[i] = []).Add(n);
        var ready = new Queue<OnnxNode>(nodes.Where(n => waiting[n] == 0));
        var order = new List<OnnxNode>(nodes.Count);
        while (ready.TryDequeue(out var n))
        {
            order.Add(n);
            foreach (var o in n.Outputs)
                if (o != "" && readers.TryGetValue(o, out var list))
                    foreach (var r in list)
                        if (--waiting[r] == 0) ready.Enqueue(r);
        }
        if (order.Count != nodes.Count)
        {
            var stuck = nodes.First(n => waiting[n] > 0);
            throw new OnnxException($"{source}: the graph has a cycle through {stuck.Describe()}");
        }
        return order;
    }

    // Floating-point initializers are the weights (Parameters), except BatchNormalization's running statistics,
    // which are state (buffers); integer ones (shapes, indices) are constants.
    private void RegisterInitializers(Dictionary<string, TensorProto> initializers, List<OnnxNode> nodes)
    {
        var statistics = nodes.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Inputs.Skip(3).Take(2)).ToHashSet();
        var used = new HashSet<string>();
        foreach (var (name, proto) in initializers)
        {
            var tensor = OnnxTensors.ToTensor(proto, $"initializer '{name}'");
            if (!tensor.DType.IsFloatingPoint())
            {
                _constants[name] = tensor;
                continue;
            }
            string key = UniqueName(name, used);
            _weights[name] = statistics.Contains(name) ? RegisterBuffer(key, tensor)! : RegisterParameter(key, new Parameter(tensor))!;
        }
    }

    // Module names cannot contain '.', and ONNX names often do ("layer1.0.conv1.weight"): '.' becomes '_'.
    private static string UniqueName(string name, HashSet<string> used)
    {
        string key = name.Replace('.', '_');
        if (key == "") key = "_";
        string candidate = key;
        for (int k = 1; !used.Add(candidate); k++) candidate = $"{key}_{k}";
        return candidate;
    }

    private void Fold(List<OnnxNode> sorted)
    {
        foreach (var node in sorted)
        {
            bool constant = OnnxOps.IsFoldable(node.OpType) && node.Inputs.All(i => i == "" || _constants.ContainsKey(i));
            if (!constant)
            {
                _nodes.Add(node);
                continue;
            }
            var results = RunNode(node, node.Inputs.Select(i => i == "" ? null : _constants[i]).ToArray(), training: false);
            for (int k = 0; k < node.Outputs.Length; k++)
                if (node.Outputs[k] != "") _constants[node.Outputs[k]] = results[k];
            _foldedOps[node.OpType] = _foldedOps.GetValueOrDefault(node.OpType) + 1;
        }
    }
}
