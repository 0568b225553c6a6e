namespace Loom.Onnx;

/// <summary>Accumulates the nodes and initializers of an exported graph, giving every node and value a unique, readable name.</summary>
internal sealed class OnnxGraphWriter
{
    private readonly HashSet<string> _names = [];

    public GraphProto Graph { get; } = new() { Name = "loom" };

    /// <summary>Adds a node named "{scope}/{op}" (made unique) and returns its first output's name (the node's name).</summary>
    public string Node(string scope, string op, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        NodeOutputs(scope, op, inputs, 1, attributes)[0];

    public string[] NodeOutputs(string scope, string op, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        string name = Unique(scope == "" ? op : $"{scope}/{op}");
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(i => i == 0 ? name : Unique($"{name}:{i}")).ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return names;
    }

    /// <summary>Adds an initializer under <paramref name="name"/> (made unique) and returns the name used.</summary>
    public string Initializer(string name, Tensor value)
    {
        string unique = Unique(name);
        Graph.Initializer.Add(OnnxTensors.ToProto(value, unique));
        return unique;
    }

    /// <summary>Renames a value everywhere (the traced result becomes the graph output's chosen name).</summary>
    public void Rename(string from, string to)
    {
        foreach (var node in Graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == from) node.Input[i] = to;
            for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == from) node.Output[i] = to;
        }
    }

    public bool Produces(string value) => Graph.Node.Any(n => n.Output.Contains(value));

    public string Unique(string name)
    {
        string candidate = name;
        for (int k = 1; !_names.Add(candidate); k++) candidate = $"{name}_{k}";
        return candidate;
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    public static AttributeProto Float(string name, double v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)v };

    public static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }
}
