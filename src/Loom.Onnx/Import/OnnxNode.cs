using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace Loom.Onnx;

/// <summary>
/// One node of an imported graph: its op, names and attributes, with typed attribute readers that reject a wrong
/// attribute type by name instead of reading a default in its place.
/// </summary>
internal sealed class OnnxNode
{
    private readonly Dictionary<string, AttributeProto> _attributes = [];

    public OnnxNode(NodeProto proto, int opset, int index)
    {
        Proto = proto;
        OpType = proto.OpType;
        Name = string.IsNullOrEmpty(proto.Name) ? $"{proto.OpType}_{index}" : proto.Name;
        Domain = proto.Domain;
        Opset = opset;
        Inputs = [.. proto.Input];
        Outputs = [.. proto.Output];
        foreach (var a in proto.Attribute)
            if (!_attributes.TryAdd(a.Name, a))
                throw new OnnxException($"attribute '{a.Name}' is given twice");
    }

    /// <summary>The node as read (re-export writes it back).</summary>
    public NodeProto Proto { get; }

    public string OpType { get; }
    public string Name { get; }
    public string Domain { get; }
    public int Opset { get; }
    public string[] Inputs { get; }
    public string[] Outputs { get; }

    /// <summary>"node 'conv1' (Conv, opset 8)": the graph runner puts it before every error a node raises.</summary>
    public string Describe() => $"node '{Name}' ({OpType}, opset {Opset})";

    public bool Has(string name) => _attributes.ContainsKey(name);

    public long Int(string name, long fallback) => Get(name, AttributeType.Int) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Get(name, AttributeType.Float) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Get(name, AttributeType.String) is { } a ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => Get(name, AttributeType.Ints) is { } a ? [.. a.Ints] : null;

    public float[]? Floats(string name) => Get(name, AttributeType.Floats) is { } a ? [.. a.Floats] : null;

    public TensorProto? TensorAttribute(string name) => Get(name, AttributeType.Tensor)?.T;

    /// <summary>An int attribute that must fit an int (an axis, a group count…).</summary>
    public int SmallInt(string name, int fallback)
    {
        long v = Int(name, fallback);
        if (v < int.MinValue || v > int.MaxValue) throw new OnnxException($"attribute '{name}' = {v} is out of range");
        return (int)v;
    }

    /// <summary>An ints attribute whose values must fit ints (kernel sizes, pads, strides, axes).</summary>
    public int[]? SmallInts(string name) => Ints(name) is { } values ? ToInts(values, $"attribute '{name}'") : null;

    public int[] ToInts(long[] values, string what)
    {
        var result = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < int.MinValue || values[i] > int.MaxValue)
                throw new OnnxException($"{what} value {values[i]} is out of range");
            result[i] = (int)values[i];
        }
        return result;
    }

    private AttributeProto? Get(string name, AttributeType type)
    {
        if (!_attributes.TryGetValue(name, out var a)) return null;
        // Old exporters leave Type unset (0); accept that only when the expected field is the one that is filled.
        if (a.Type != type && !(a.Type == AttributeType.Undefined && Filled(a, type)))
            throw new OnnxException($"attribute '{name}' should be {type.ToString().ToLowerInvariant()}, got {a.Type.ToString().ToLowerInvariant()}");
        return a;
    }

    private static bool Filled(AttributeProto a, AttributeType type) => type switch
    {
        AttributeType.Ints => a.Ints.Count > 0,
        AttributeType.Floats => a.Floats.Count > 0,
        AttributeType.Tensor => a.T is not null,
        AttributeType.String => !a.S.IsEmpty,
        _ => true,
    };
}
