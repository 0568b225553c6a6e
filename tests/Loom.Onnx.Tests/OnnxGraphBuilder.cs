using Google.Protobuf;

namespace Loom.Onnx.Tests;

/// <summary>Builds small ONNX models for the op tests: inputs with (possibly symbolic) dims, initializers, nodes with attributes.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly int _opset;

    public OnnxGraphBuilder(int opset = 17) => _opset = opset;

    public OnnxGraphBuilder TypedInput(string name, int elemType, params object[] dims)
    {
        _graph.Input.Add(Value(name, elemType, dims));
        return this;
    }

    public OnnxGraphBuilder Input(string name, params object[] dims) => TypedInput(name, OnnxDataType.Float, dims);

    public OnnxGraphBuilder Output(string name, int elemType = OnnxDataType.Float)
    {
        _graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType } } });
        return this;
    }

    public OnnxGraphBuilder Initializer(string name, Tensor value)
    {
        _graph.Initializer.Add(OnnxTensors.ToProto(value, name));
        return this;
    }

    public OnnxGraphBuilder Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return this;
    }

    public GraphProto Graph => _graph;

    public ModelProto Model()
    {
        var model = new ModelProto { IrVersion = 8, Graph = _graph, ProducerName = "loom-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        return model;
    }

    public byte[] Bytes() => Model().ToByteArray();

    private static ValueInfoProto Value(string name, int elemType, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType, Shape = shape } } };
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    public static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };

    public static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    public static AttributeProto TensorAttr(string name, Tensor v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.ToProto(v, "") };
}
