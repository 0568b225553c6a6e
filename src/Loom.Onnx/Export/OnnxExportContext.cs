namespace Loom.Onnx;

/// <summary>
/// What an <see cref="IOnnxExportable"/> module writes its graph with: ONNX ops named after the module
/// ("{module path}/{Op}"), constants and parameters as initializers, and its children, each exported in its own scope.
/// Values are ONNX value names (strings).
/// </summary>
public sealed class OnnxExportContext
{
    private readonly OnnxExport.Tracer _tracer;

    internal OnnxExportContext(OnnxExport.Tracer tracer, string scope, DType dtype)
    {
        _tracer = tracer;
        Scope = scope;
        DType = dtype;
    }

    /// <summary>The path of the module being exported ("" for the root).</summary>
    public string Scope { get; }

    /// <summary>The module's floating-point type (of its first floating-point parameter; Float32 without one): the type of its constants.</summary>
    public DType DType { get; }

    private OnnxGraphWriter Writer => _tracer.Writer;

    /// <summary>An ONNX node of the default domain; returns its (first) output.</summary>
    public string Op(string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes) => Writer.Node(Scope, opType, inputs, attributes);

    /// <summary>An ONNX node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] Op(string opType, IReadOnlyList<string> inputs, int outputs, params AttributeProto[] attributes) =>
        Writer.NodeOutputs(Scope, opType, inputs, outputs, attributes);

    /// <summary>A constant as an initializer named "{scope}.{name}" (made unique).</summary>
    public string Constant(string name, Tensor value) => Writer.Initializer(Scope == "" ? name : $"{Scope}.{name}", value);

    /// <summary>A scalar constant of the module's <see cref="DType"/>.</summary>
    public string Scalar(string name, double value) => Constant(name, Tensor.Scalar(value, DType));

    /// <summary>A 1-D Int64 constant (shapes, axes, split sizes).</summary>
    public string Longs(string name, params long[] values) => Constant(name, Tensor.FromArray(values, values.Length));

    /// <summary>A parameter or buffer of the model, as an initializer under its state-dict name (shared between uses).</summary>
    public string Parameter(Tensor state) => _tracer.State(state, $"{Scope}.state");

    /// <summary>Dimension <paramref name="axis"/> of <paramref name="value"/> at run time, as Int64 [1].</summary>
    public string Dim(string value, int axis) => Op("Gather", [Op("Shape", [value]), Longs("axis", axis)]);

    /// <summary>A tensor of run-time shape <paramref name="shape"/> (Int64 [rank]) filled with <paramref name="value"/>.</summary>
    public string Full(string shape, double value, DType dtype) => Op("ConstantOfShape", [shape],
        new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.ToProto(Tensor.Full(new Shape(1), value, dtype), "value") });

    /// <summary>0, 1, …, n − 1 (Int64) for a run-time length <paramref name="n"/> given as Int64 [1].</summary>
    public string Arange(string n) =>
        Op("Range", [Constant("zero", Tensor.Scalar(0, DType.Int64)), Op("Squeeze", [n, Longs("axes", 0)]), Constant("one", Tensor.Scalar(1, DType.Int64))]);

    /// <summary>Unsqueeze at <paramref name="axes"/>.</summary>
    public string Unsqueeze(string value, params long[] axes) => Op("Unsqueeze", [value, Longs("axes", axes)]);

    /// <summary>Cast to <paramref name="dtype"/>.</summary>
    public string Cast(string value, DType dtype) => Op("Cast", [value], Int("to", (long)OnnxDataType.FromDType(dtype)));

    /// <summary>GELU (opset 17 has no Gelu op): the erf form, or the tanh approximation.</summary>
    public string Gelu(string x, bool approximateTanh) => ModuleEmitters.Gelu(Writer, Scope, x, approximateTanh, DType);

    /// <summary>
    /// Child module <paramref name="child"/> of the model on <paramref name="input"/>, in the child's own scope: its own
    /// export when it is <see cref="IOnnxExportable"/>, a layer the exporter knows, a Sequential of such, an LSTM or GRU
    /// without lengths, or a transformer encoder without masks; anything else fails, naming the module.
    /// </summary>
    public string Module(Module child, string input)
    {
        ArgumentNullException.ThrowIfNull(child);
        var context = Within(child);
        string name = context.Scope;
        switch (child)
        {
            case Dropout or Identity: return input; // evaluation mode
            case IOnnxExportable exportable: return exportable.ExportOnnx(context, input);
            case Sequential sequential:
                foreach (var layer in sequential.Children()) input = context.Module(layer, input);
                return input;
            case RNNBase rnn: return context.Recurrent(rnn, input, null);
            case TransformerEncoder encoder: return context.Encoder(encoder, input, null);
            default:
                if (!ModuleEmitters.Handles(child))
                    throw new OnnxException($"export: module '{OnnxExport.Display(name)}' ({child.GetType().Name}) has no ONNX mapping in Loom's exporter");
                var call = _tracer.FirstCall(child);
                return ModuleEmitters.Emit(child, Writer, name, input, call?.Input, call?.Output, _tracer);
        }
    }

    /// <summary>
    /// An LSTM or GRU (every layer and direction) on <paramref name="input"/> in its own layout; <paramref name="lengths"/>
    /// (Int32 [B], or null) as <see cref="LSTM.Forward(Tensor, ValueTuple{Tensor, Tensor}?, int[])"/>'s: each sequence stops
    /// at its length, its outputs beyond are zero and the reverse direction starts at its last step. Returns the output sequence.
    /// </summary>
    public string Recurrent(RNNBase rnn, string input, string? lengths) => NnEmitters.Recurrent(Within(rnn), rnn, input, lengths);

    /// <summary>A transformer encoder (batch-first or not) whose attention ignores keys where <paramref name="keyPadding"/> (Bool [B, S], or null) is true.</summary>
    public string Encoder(TransformerEncoder encoder, string input, string? keyPadding) => NnEmitters.Encoder(Within(encoder), encoder, input, keyPadding);

    /// <summary>
    /// Multi-head scaled-dot-product self-attention from packed projections <paramref name="qkv"/> [B, T, 3·E] to
    /// [B, T, E], as <see cref="Functional.SelfAttention"/>: causal or not, ignoring keys where <paramref name="keyPadding"/>
    /// (Bool [B, T], or null) is true.
    /// </summary>
    public string SelfAttention(string qkv, int embedDim, int heads, bool isCausal, string? keyPadding)
    {
        int headDim = embedDim / heads;
        var parts = Writer.NodeOutputs(Scope, "Split", [qkv, Longs("split", embedDim, embedDim, embedDim)], 3, Int("axis", 2));
        string Heads(string z) => Op("Transpose", [Op("Reshape", [z, Longs("heads", 0, 0, heads, headDim)])], Ints("perm", 0, 2, 1, 3));
        string q = Heads(parts[0]), k = Heads(parts[1]), v = Heads(parts[2]);
        var scores = Op("Mul", [Op("MatMul", [q, Op("Transpose", [k], Ints("perm", 0, 1, 3, 2))]), Scalar("scale", 1 / Math.Sqrt(headDim))]);
        string? masked = null;
        if (isCausal)
        {
            var positions = Arange(Dim(qkv, 1));
            masked = Op("Greater", [Unsqueeze(positions, 0), Unsqueeze(positions, 1)]); // [T, T]: key after query
        }
        if (keyPadding is not null)
        {
            var padding = Unsqueeze(keyPadding, 1, 2); // [B, 1, 1, T]
            masked = masked is null ? padding : Op("Or", [masked, padding]);
        }
        if (masked is not null) scores = Op("Where", [masked, Scalar("masked", double.NegativeInfinity), scores]);
        var weighted = Op("MatMul", [Op("Softmax", [scores], Int("axis", -1)), v]);
        return Op("Reshape", [Op("Transpose", [weighted], Ints("perm", 0, 2, 1, 3)), Longs("merged", 0, 0, embedDim)]);
    }

    /// <summary>The context of <paramref name="module"/>, in its own scope.</summary>
    public OnnxExportContext Within(Module module) => new(_tracer, _tracer.NameOf(module), OnnxExport.FloatType(module, DType));

    public static AttributeProto Int(string name, long value) => OnnxGraphWriter.Int(name, value);

    public static AttributeProto Float(string name, double value) => OnnxGraphWriter.Float(name, value);

    public static AttributeProto Ints(string name, params long[] values) => OnnxGraphWriter.Ints(name, values);

    public static AttributeProto Str(string name, string value) => OnnxGraphWriter.Str(name, value);
}
