using static Loom.Onnx.Tests.OnnxGraphBuilder;

namespace Loom.Onnx.Tests;

/// <summary>
/// Each supported op in a one- or two-node graph, run by Loom and by ONNX Runtime on the same seeded inputs. The cases
/// cover the attribute forms that differ between opsets (axes as attribute or input, softmax's coercion before 13,
/// BatchNormalization's `spatial`) and the padding forms (uneven pads, auto_pad).
/// </summary>
public class OpImportTests
{
    private const int F = OnnxDataType.Float;
    private const int I64 = OnnxDataType.Int64;

    // Reset by each test, so a case's inputs do not depend on which cases ran before it.
    [ThreadStatic] private static Loom.Random.Generator? _generator;

    private static Tensor Rand(params int[] shape) => Tensor.Randn(new Shape(shape), _generator);

    private static Tensor Longs(params long[] v) => Tensor.FromArray(v, v.Length);

    public static TheoryData<string> Cases => new(CaseTable.Keys);

    private static readonly Dictionary<string, Func<(OnnxGraphBuilder Graph, Dictionary<string, Tensor> Inputs)>> CaseTable = new()
    {
        ["conv uneven pads"] = () => (new OnnxGraphBuilder(8).Input("x", 1, 3, 11, 10).Initializer("w", Rand(4, 3, 7, 7)).Initializer("b", Rand(4))
            .Node("Conv", ["x", "w", "b"], ["y"], Ints("kernel_shape", 7, 7), Ints("pads", 3, 3, 2, 2), Ints("strides", 2, 2)).Output("y"),
            new() { ["x"] = Rand(1, 3, 11, 10) }),
        ["conv more end padding"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 4, 9, 9).Initializer("w", Rand(6, 2, 3, 3))
            .Node("Conv", ["x", "w"], ["y"], Ints("pads", 0, 1, 2, 1), Ints("dilations", 2, 1), Int("group", 2)).Output("y"),
            new() { ["x"] = Rand(2, 4, 9, 9) }),
        ["conv same_upper 1d"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 3, 10).Initializer("w", Rand(5, 3, 4))
            .Node("Conv", ["x", "w"], ["y"], Str("auto_pad", "SAME_UPPER"), Ints("strides", 3)).Output("y"),
            new() { ["x"] = Rand(2, 3, 10) }),
        ["conv transpose"] = () => (new OnnxGraphBuilder(13).Input("x", 1, 4, 5, 5).Initializer("w", Rand(4, 3, 3, 3)).Initializer("b", Rand(3))
            .Node("ConvTranspose", ["x", "w", "b"], ["y"], Ints("strides", 2, 2), Ints("pads", 1, 0, 0, 1), Ints("output_padding", 1, 1)).Output("y"),
            new() { ["x"] = Rand(1, 4, 5, 5) }),
        ["maxpool uneven pads"] = () => (new OnnxGraphBuilder(8).Input("x", 1, 2, 12, 12)
            .Node("MaxPool", ["x"], ["y"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 0, 0), Ints("strides", 2, 2)).Output("y"),
            new() { ["x"] = Rand(1, 2, 12, 12) }),
        ["maxpool ceil"] = () => (new OnnxGraphBuilder(12).Input("x", 1, 2, 10, 10)
            .Node("MaxPool", ["x"], ["y"], Ints("kernel_shape", 3, 3), Ints("pads", 0, 0, 1, 1), Ints("strides", 2, 2), Int("ceil_mode", 1)).Output("y"),
            new() { ["x"] = Rand(1, 2, 10, 10) }),
        ["averagepool exclude pad"] = () => (new OnnxGraphBuilder(11).Input("x", 2, 3, 8, 7)
            .Node("AveragePool", ["x"], ["y"], Ints("kernel_shape", 3, 2), Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 1)).Output("y"),
            new() { ["x"] = Rand(2, 3, 8, 7) }),
        ["averagepool include pad"] = () => (new OnnxGraphBuilder(11).Input("x", 2, 3, 8, 7)
            .Node("AveragePool", ["x"], ["y"], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 0, 0), Int("count_include_pad", 1)).Output("y"),
            new() { ["x"] = Rand(2, 3, 8, 7) }),
        ["global average pool"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 3, 5, 4).Node("GlobalAveragePool", ["x"], ["y"]).Output("y"),
            new() { ["x"] = Rand(2, 3, 5, 4) }),
        ["batchnorm spatial opset 7"] = () => (new OnnxGraphBuilder(7).Input("x", 2, 3, 4, 4).Initializer("s", Rand(3)).Initializer("b", Rand(3))
            .Initializer("m", Rand(3)).Initializer("v", Rand(3).Abs().Add(0.5))
            .Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], Int("spatial", 1), Float("epsilon", 1e-3f)).Output("y"),
            new() { ["x"] = Rand(2, 3, 4, 4) }),
        ["batchnorm 2d input"] = () => (new OnnxGraphBuilder(15).Input("x", 5, 3).Initializer("s", Rand(3)).Initializer("b", Rand(3))
            .Initializer("m", Rand(3)).Initializer("v", Rand(3).Abs().Add(0.5)).Node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"]).Output("y"),
            new() { ["x"] = Rand(5, 3) }),
        ["gemm linear"] = () => (new OnnxGraphBuilder(13).Input("x", 4, 6).Initializer("w", Rand(5, 6)).Initializer("b", Rand(5))
            .Node("Gemm", ["x", "w", "b"], ["y"], Int("transB", 1)).Output("y"), new() { ["x"] = Rand(4, 6) }),
        ["gemm general"] = () => (new OnnxGraphBuilder(13).Input("a", 6, 4).Initializer("b", Rand(6, 5)).Initializer("c", Rand(1, 5))
            .Node("Gemm", ["a", "b", "c"], ["y"], Int("transA", 1), Float("alpha", 0.5f), Float("beta", 2f)).Output("y"), new() { ["a"] = Rand(6, 4) }),
        ["matmul batched"] = () => (new OnnxGraphBuilder(13).Input("a", 2, 3, 4).Input("b", 4, 5).Node("MatMul", ["a", "b"], ["y"]).Output("y"),
            new() { ["a"] = Rand(2, 3, 4), ["b"] = Rand(4, 5) }),
        ["elementwise chain"] = () => (new OnnxGraphBuilder(13).Input("a", 2, 3).Input("b", 3).Initializer("two", Tensor.Scalar(2))
            .Node("Sub", ["a", "b"], ["d"]).Node("Mul", ["d", "b"], ["m"]).Node("Pow", ["m", "two"], ["p"]).Node("Add", ["p", "two"], ["q"])
            .Node("Sqrt", ["q"], ["r"]).Node("Div", ["r", "b"], ["y"]).Output("y"), new() { ["a"] = Rand(2, 3), ["b"] = Rand(3).Abs().Add(1) }),
        ["activations"] = () => (new OnnxGraphBuilder(20).Input("x", 3, 4).Node("LeakyRelu", ["x"], ["a"], Float("alpha", 0.2f)).Node("Sigmoid", ["a"], ["b"])
            .Node("Tanh", ["x"], ["c"]).Node("Gelu", ["x"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Relu", ["x"], ["f"])
            .Node("Sum", ["b", "c", "e", "f"], ["y"]).Output("y"), new() { ["x"] = Rand(3, 4) }),
        ["gelu tanh"] = () => (new OnnxGraphBuilder(20).Input("x", 3, 4).Node("Gelu", ["x"], ["y"], Str("approximate", "tanh")).Output("y"), new() { ["x"] = Rand(3, 4) }),
        ["softmax opset 11 coerces to 2d"] = () => (new OnnxGraphBuilder(11).Input("x", 2, 3, 4).Node("Softmax", ["x"], ["y"], Int("axis", 1)).Output("y"),
            new() { ["x"] = Rand(2, 3, 4) }),
        ["log softmax opset 13"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 3, 4).Node("LogSoftmax", ["x"], ["y"], Int("axis", 1)).Output("y"),
            new() { ["x"] = Rand(2, 3, 4) }),
        ["flatten reshape transpose"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 3, 4).Initializer("shape", Longs(0, -1, 2))
            .Node("Flatten", ["x"], ["f"], Int("axis", 2)).Node("Reshape", ["x", "shape"], ["r"]).Node("Transpose", ["r"], ["t"], Ints("perm", 2, 0, 1))
            .Output("f").Output("t"), new() { ["x"] = Rand(2, 3, 4) }),
        ["concat split"] = () => (new OnnxGraphBuilder(13).Input("a", 2, 3).Input("b", 2, 5).Initializer("sizes", Longs(1, 4, 3))
            .Node("Concat", ["a", "b"], ["c"], Int("axis", 1)).Node("Split", ["c", "sizes"], ["s0", "s1", "s2"], Int("axis", -1))
            .Output("s0").Output("s1").Output("s2"), new() { ["a"] = Rand(2, 3), ["b"] = Rand(2, 5) }),
        ["split opset 11 equal parts"] = () => (new OnnxGraphBuilder(11).Input("x", 6, 2).Node("Split", ["x"], ["a", "b", "c"]).Output("a").Output("b").Output("c"),
            new() { ["x"] = Rand(6, 2) }),
        ["slice steps and negatives"] = () => (new OnnxGraphBuilder(13).Input("x", 5, 7, 3).Initializer("st", Longs(-1, 1, long.MaxValue))
            .Initializer("en", Longs(long.MinValue, -1, 0)).Initializer("ax", Longs(0, 1, 2)).Initializer("sp", Longs(-2, 2, -1))
            .Node("Slice", ["x", "st", "en", "ax", "sp"], ["y"]).Output("y"), new() { ["x"] = Rand(5, 7, 3) }),
        ["slice opset 9 attributes"] = () => (new OnnxGraphBuilder(9).Input("x", 5, 7)
            .Node("Slice", ["x"], ["y"], Ints("starts", 1, -3), Ints("ends", 100, -1), Ints("axes", 0, 1)).Output("y"), new() { ["x"] = Rand(5, 7) }),
        ["gather embedding"] = () => (new OnnxGraphBuilder(13).TypedInput("ids", I64, 2, 3).Initializer("table", Rand(10, 4))
            .Node("Gather", ["table", "ids"], ["y"]).Output("y"), new() { ["ids"] = Tensor.FromArray(new long[] { 0, 9, -1, 3, 3, 5 }, 2, 3) }),
        ["gather scalar axis 1"] = () => (new OnnxGraphBuilder(13).Input("x", 3, 4, 2).Initializer("i", Tensor.Scalar(2, DType.Int64))
            .Node("Gather", ["x", "i"], ["y"], Int("axis", 1)).Output("y"), new() { ["x"] = Rand(3, 4, 2) }),
        ["squeeze unsqueeze opset 11"] = () => (new OnnxGraphBuilder(11).Input("x", 3, 1, 4)
            .Node("Squeeze", ["x"], ["s"], Ints("axes", 1)).Node("Unsqueeze", ["s"], ["y"], Ints("axes", 0, -1)).Output("y"), new() { ["x"] = Rand(3, 1, 4) }),
        ["squeeze unsqueeze opset 13"] = () => (new OnnxGraphBuilder(13).Input("x", 3, 1, 4).Initializer("a", Longs(1)).Initializer("b", Longs(0, 3))
            .Node("Squeeze", ["x", "a"], ["s"]).Node("Unsqueeze", ["s", "b"], ["y"]).Output("y"), new() { ["x"] = Rand(3, 1, 4) }),
        ["reduce mean sum"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 3, 4).Initializer("ax", Longs(0, -1))
            .Node("ReduceMean", ["x"], ["m"], Ints("axes", 1), Int("keepdims", 0)).Node("ReduceSum", ["x", "ax"], ["s"]).Output("m").Output("s"),
            new() { ["x"] = Rand(2, 3, 4) }),
        ["reduce mean opset 18 input axes"] = () => (new OnnxGraphBuilder(18).Input("x", 2, 3, 4).Initializer("ax", Longs(2))
            .Node("ReduceMean", ["x", "ax"], ["m"]).Output("m"), new() { ["x"] = Rand(2, 3, 4) }),
        ["layer normalization"] = () => (new OnnxGraphBuilder(17).Input("x", 2, 3, 8).Initializer("g", Rand(8)).Initializer("b", Rand(8))
            .Node("LayerNormalization", ["x", "g", "b"], ["y"], Float("epsilon", 1e-6f)).Output("y"), new() { ["x"] = Rand(2, 3, 8) }),
        ["shape arithmetic folds and runs"] = () => (new OnnxGraphBuilder(13).Input("x", "N", 3, 4)
            .Node("Shape", ["x"], ["sh"]).Node("Constant", [], ["zero"], TensorAttr("value", Longs(0)))
            .Node("Gather", ["sh", "zero"], ["n"]).Node("Constant", [], ["rest"], TensorAttr("value", Longs(12)))
            .Node("Concat", ["n", "rest"], ["target"], Int("axis", 0)).Node("Reshape", ["x", "target"], ["r"])
            .Node("Cast", ["r"], ["y"], Int("to", OnnxDataType.Double)).Node("Cast", ["y"], ["z"], Int("to", F)).Output("z"), new() { ["x"] = Rand(5, 3, 4) }),
        ["constant of shape where expand"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 3).Initializer("shape", Longs(2, 3)).Initializer("eshape", Longs(4, 2, 1))
            .Node("ConstantOfShape", ["shape"], ["c"], TensorAttr("value", Tensor.FromArray(new[] { 0.5f }, 1)))
            .Node("Greater", ["x", "c"], ["cond"]).Node("Where", ["cond", "x", "c"], ["w"]).Node("Expand", ["w", "eshape"], ["y"]).Output("y"),
            new() { ["x"] = Rand(2, 3) }),
        ["dropout inference"] = () => (new OnnxGraphBuilder(13).Input("x", 2, 3).Node("Dropout", ["x"], ["y"]).Output("y"), new() { ["x"] = Rand(2, 3) }),
        ["lstm bidirectional"] = () => (new OnnxGraphBuilder(14).Input("x", 5, 2, 3).Initializer("w", Rand(2, 16, 3)).Initializer("r", Rand(2, 16, 4))
            .Initializer("b", Rand(2, 32)).Input("h0", 2, 2, 4).Input("c0", 2, 2, 4)
            .Node("LSTM", ["x", "w", "r", "b", "", "h0", "c0"], ["y", "yh", "yc"], Int("hidden_size", 4), Str("direction", "bidirectional"))
            .Output("y").Output("yh").Output("yc"), new() { ["x"] = Rand(5, 2, 3), ["h0"] = Rand(2, 2, 4), ["c0"] = Rand(2, 2, 4) }),
        // ONNX Runtime runs only layout 0, so the batch-first form is checked against the same graph with layout 0.
        ["gru reverse with lengths"] = () => (new OnnxGraphBuilder(14).Input("x", 5, 3, 3).Initializer("w", Rand(1, 12, 3)).Initializer("r", Rand(1, 12, 4))
            .Initializer("b", Rand(1, 24)).TypedInput("len", OnnxDataType.Int32, 3).Input("h0", 1, 3, 4)
            .Node("GRU", ["x", "w", "r", "b", "len", "h0"], ["y", "yh"], Int("hidden_size", 4), Str("direction", "reverse"), Int("linear_before_reset", 1))
            .Output("y").Output("yh"), new() { ["x"] = Rand(5, 3, 3), ["len"] = Tensor.FromArray(new[] { 5, 2, 4 }, 3), ["h0"] = Rand(1, 3, 4) }),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_onnx_runtime(string name)
    {
        _generator = new Loom.Random.Generator(17);
        var (graph, inputs) = CaseTable[name]();
        var bytes = graph.Bytes();
        var expected = OrtReference.Run(bytes, inputs);
        var model = OnnxModule.Load(bytes, name);
        var actual = model.Run(inputs);
        foreach (var (output, want) in expected)
        {
            double diff = OrtReference.MaxAbsDiff(actual[output].To(want.DType), want);
            Assert.True(diff < 1e-5, $"{name}, output {output}: max |Loom − ORT| = {diff}");
        }
    }

    [Fact]
    public void Batch_first_recurrent_layout_matches_the_time_first_one()
    {
        _generator = new Loom.Random.Generator(5);
        Tensor w = Rand(1, 12, 3), r = Rand(1, 12, 4), b = Rand(1, 24), x = Rand(5, 2, 3);
        OnnxModule Gru(int layout) => OnnxModule.Load(new OnnxGraphBuilder(14).Input("x", 5, 2, 3).Initializer("w", w).Initializer("r", r).Initializer("b", b)
            .Node("GRU", ["x", "w", "r", "b"], ["y", "yh"], Int("hidden_size", 4), Int("layout", layout), Int("linear_before_reset", 1))
            .Output("y").Output("yh").Bytes());
        var timeFirst = Gru(0).Run(x);
        var batchFirst = Gru(1).Run(x.Transpose(0, 1));
        TensorAssert.Close(timeFirst[0].Permute(2, 0, 1, 3), batchFirst[0], 1e-6, 0);
        TensorAssert.Close(timeFirst[1].Transpose(0, 1), batchFirst[1], 1e-6, 0);
    }
}
