using static Loom.Onnx.OnnxGraphWriter;

namespace Loom.Onnx;

/// <summary>
/// Exports a module to ONNX by tracing one forward pass on an example input.
/// </summary>
/// <remarks>
/// <para>How the trace works: forward hooks record every module call (its input and output tensors), and the
/// autograd graph links each computed tensor to the tensors it came from (<see cref="BackwardNode.InputTensors"/>).
/// Walking back from the output, a tensor that a known layer (Linear, Conv2d, BatchNorm, pooling, LayerNorm,
/// Embedding, activations…) produced becomes that layer's ONNX nodes, with its parameters as initializers under their
/// state-dict names; a tensor computed between layers (a residual add, a ReLU, a flatten) becomes the op its
/// autograd node names. Anything else — a constant operand, an op without a mapping — fails the export with a
/// message naming the op and the module it was found in.</para>
/// <para>The example input requires grad during the trace (a copy; the caller's tensor is untouched) so that ops
/// applied to it before the first layer are recorded. The model runs in evaluation mode; its mode is restored after.</para>
/// </remarks>
public static class OnnxExport
{
    /// <summary>The ONNX model bytes of <paramref name="model"/> traced on <paramref name="example"/>.</summary>
    public static byte[] ToBytes(Module<Tensor, Tensor> model, Tensor example, OnnxExportOptions? options = null) =>
        Trace(model, example, options ?? new OnnxExportOptions()).ToByteArray();

    /// <summary>Writes the ONNX model of <paramref name="model"/> traced on <paramref name="example"/> to <paramref name="path"/>.</summary>
    public static void Save(Module<Tensor, Tensor> model, Tensor example, string path, OnnxExportOptions? options = null) =>
        File.WriteAllBytes(path, ToBytes(model, example, options));

    internal sealed record Call(string Name, Module Module, Tensor Input, Tensor Output);

    internal static ModelProto Trace(Module<Tensor, Tensor> model, Tensor example, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(example);
        if (options.Opset < 17) throw new OnnxException($"export: opset {options.Opset} is older than 17, the oldest Loom writes");
        if (!GradMode.IsEnabled) throw new OnnxException("export: the trace needs autograd; call it outside a NoGrad scope");

        var calls = new List<Call>();
        var handles = new List<HookHandle>();
        foreach (var (name, module) in model.NamedModules())
            handles.Add(module.RegisterForwardHook((m, i, o) =>
            {
                if (i is Tensor input && o is Tensor output) calls.Add(new Call(name, m, input, output));
            }));
        bool wasTraining = model.Training;
        var x = example.Detach().Clone();
        if (x.DType.IsFloatingPoint()) x.RequiresGrad_();
        Tensor output;
        try
        {
            model.Eval();
            output = model.Forward(x);
        }
        finally
        {
            foreach (var h in handles) h.Remove();
            model.Train(wasTraining);
        }

        var tracer = new Tracer(model, x, calls, options);
        string result = tracer.Emit(output, "");
        var writer = tracer.Writer;
        if (writer.Produces(result)) writer.Rename(result, options.OutputName);
        else writer.Node("", "Identity", [result]).Let(id => writer.Rename(id, options.OutputName));

        var graph = writer.Graph;
        graph.Input.Add(ValueInfo(options.InputName, x, x, options.DynamicAxes, isInput: true));
        graph.Output.Add(ValueInfo(options.OutputName, output, x, options.DynamicAxes, isInput: false));
        var proto = new ModelProto { IrVersion = 8, ProducerName = "Loom", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "", Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        return proto;
    }

    private static T Let<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }

    private static ValueInfoProto ValueInfo(string name, Tensor t, Tensor input, IReadOnlyDictionary<int, string> dynamic, bool isInput)
    {
        var shape = new TensorShapeProto();
        for (int axis = 0; axis < t.Rank; axis++)
        {
            string? symbol = dynamic.TryGetValue(axis, out var s) && (isInput || axis < input.Rank && t.Shape[axis] == input.Shape[axis]) ? s : null;
            shape.Dim.Add(symbol is null ? new TensorShapeProto.Types.Dimension { DimValue = t.Shape[axis] } : new TensorShapeProto.Types.Dimension { DimParam = symbol });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxDataType.FromDType(t.DType), Shape = shape } },
        };
    }

    internal sealed class Tracer : IStateSource
    {
        private readonly Tensor _input;
        private readonly OnnxExportOptions _options;
        private readonly Dictionary<Tensor, string> _values = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Tensor, string> _stateNames = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Tensor, Call> _layerOutputs = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Tensor, string> _moduleOutputs = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Module, string> _moduleNames = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Module, Call> _firstCalls = new(ReferenceEqualityComparer.Instance);

        public Tracer(Module model, Tensor input, List<Call> calls, OnnxExportOptions options)
        {
            _input = input;
            _options = options;
            foreach (var (name, p) in model.NamedParameters()) _stateNames.TryAdd(p, name);
            foreach (var (name, b) in model.NamedBuffers()) _stateNames.TryAdd(b, name);
            foreach (var (name, m) in model.NamedModules()) _moduleNames.TryAdd(m, name);
            // Hooks fire innermost first, so TryAdd keeps the innermost module that produced a tensor.
            foreach (var call in calls)
            {
                if (ReferenceEquals(call.Input, call.Output)) continue; // Dropout and Identity in evaluation mode
                if (ModuleEmitters.Handles(call.Module)) _layerOutputs.TryAdd(call.Output, call);
                _moduleOutputs.TryAdd(call.Output, call.Name);
                _firstCalls.TryAdd(call.Module, call);
            }
            // A module that exports itself stands for everything inside it, so the outermost one producing a tensor wins.
            foreach (var call in calls)
                if (call.Module is IOnnxExportable) _layerOutputs[call.Output] = call;
        }

        public OnnxGraphWriter Writer { get; } = new();

        /// <summary>The ONNX value holding <paramref name="t"/>, emitting whatever computes it first.</summary>
        public string Emit(Tensor t, string scope)
        {
            if (_values.TryGetValue(t, out var known)) return known;
            string value;
            if (ReferenceEquals(t, _input))
            {
                value = _options.InputName;
                Writer.Unique(value);
            }
            else if (_stateNames.TryGetValue(t, out var stateName)) value = Writer.Initializer(stateName, t);
            else if (_layerOutputs.TryGetValue(t, out var call) && call.Module is IOnnxExportable exportable)
                value = exportable.ExportOnnx(new OnnxExportContext(this, call.Name, FloatType(call.Module, DType.Float32)), Emit(call.Input, call.Name));
            else if (call is not null)
                value = ModuleEmitters.Emit(call.Module, Writer, call.Name, Emit(call.Input, call.Name), call.Input, call.Output, this);
            else if (t.GradFn is { } fn) value = EmitOp(fn, t, _moduleOutputs.GetValueOrDefault(t, scope));
            else
                throw new OnnxException($"export: module '{Display(scope)}' uses a tensor of shape {t.Shape} that is neither the input, a parameter, " +
                    "nor computed from them (a constant or an integer mask); Loom's exporter cannot trace it");
            _values[t] = value;
            return value;
        }

        public string NameOf(Module module) => _moduleNames.TryGetValue(module, out var name) ? name
            : throw new OnnxException($"export: a {module.GetType().Name} is used in the forward pass but is not a registered module of the model");

        /// <summary>The module's first traced call (its input and output shapes), or null when its hooks never fired.</summary>
        public Call? FirstCall(Module module) => _firstCalls.GetValueOrDefault(module);

        /// <summary>A module's parameter or buffer as an initializer (shared when several layers read it).</summary>
        public string State(Tensor t, string fallbackName)
        {
            if (_values.TryGetValue(t, out var known)) return known;
            return _values[t] = Writer.Initializer(_stateNames.GetValueOrDefault(t, fallbackName), t);
        }

        private string EmitOp(BackwardNode fn, Tensor output, string scope)
        {
            var inputs = fn.InputTensors;
            string Operand(int i) => inputs[i] is { } t ? Emit(t, scope)
                : throw new OnnxException($"export: op '{fn.OpName}' in module '{Display(scope)}' has a constant operand, which Loom's exporter cannot trace");
            switch (fn.OpName)
            {
                case "add": return Writer.Node(scope, "Add", [Operand(0), Operand(1)]);
                case "sub": return Writer.Node(scope, "Sub", [Operand(0), Operand(1)]);
                case "mul": return Writer.Node(scope, "Mul", [Operand(0), Operand(1)]);
                case "div": return Writer.Node(scope, "Div", [Operand(0), Operand(1)]);
                case "relu": return Writer.Node(scope, "Relu", [Operand(0)]);
                case "tanh": return Writer.Node(scope, "Tanh", [Operand(0)]);
                case "sigmoid": return Writer.Node(scope, "Sigmoid", [Operand(0)]);
                case "reshape": return ModuleEmitters.Reshape(Writer, scope, Operand(0), inputs[0]!.Shape, output.Shape);
                default:
                    throw new OnnxException($"export: op '{fn.OpName}' in module '{Display(scope)}' has no ONNX mapping in Loom's exporter");
            }
        }

    }

    internal static string Display(string scope) => scope == "" ? "(root)" : scope;

    /// <summary>The type of <paramref name="module"/>'s first floating-point parameter, or <paramref name="fallback"/>.</summary>
    internal static DType FloatType(Module module, DType fallback) =>
        module.Parameters().Select(p => p.DType).Where(d => d.IsFloatingPoint()).DefaultIfEmpty(fallback).First();

    /// <summary>What a layer emitter needs from the trace: initializers for its parameters.</summary>
    internal interface IStateSource
    {
        string State(Tensor t, string fallbackName);
    }
}
