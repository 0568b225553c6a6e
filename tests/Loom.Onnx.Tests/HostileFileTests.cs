using Google.Protobuf;
using static Loom.Onnx.Tests.OnnxGraphBuilder;

namespace Loom.Onnx.Tests;

/// <summary>
/// Corrupt, truncated and hostile files: each is rejected with an <see cref="OnnxException"/> whose one-line message
/// says what is wrong, never another exception type, a crash or an allocation the file's size does not justify.
/// </summary>
public class HostileFileTests
{
    private static OnnxGraphBuilder SmallCnn()
    {
        var g = new Loom.Random.Generator(3);
        return new OnnxGraphBuilder(13).Input("x", "N", 2, 6, 6)
            .Initializer("w", Tensor.Randn(new Shape(3, 2, 3, 3), g)).Initializer("fc", Tensor.Randn(new Shape(4, 12), g))
            .Initializer("shape", Tensor.FromArray(new long[] { -1, 12 }, 2)).Initializer("idx", Tensor.FromArray(new long[] { 0, 2 }, 2))
            .Node("Conv", ["x", "w"], ["c"], Ints("strides", 2, 2)).Node("Relu", ["c"], ["r"]).Node("MaxPool", ["r"], ["p"], Ints("kernel_shape", 1, 1))
            .Node("Reshape", ["p", "shape"], ["f"]).Node("Gemm", ["f", "fc"], ["g"], Int("transB", 1)).Node("Gather", ["g", "idx"], ["y"], Int("axis", 1))
            .Output("y");
    }

    private static OnnxException Rejects(byte[] bytes, bool run = false)
    {
        var e = Assert.Throws<OnnxException>(() =>
        {
            var m = OnnxModule.Load(bytes, "bad.onnx");
            if (run) m.Run(Tensor.Zeros(1, 2, 6, 6));
        });
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("bad.onnx: ", e.Message);
        return e;
    }

    [Fact]
    public void The_small_model_itself_loads_and_runs() =>
        Assert.Equal(new Shape(5, 2), OnnxModule.Load(SmallCnn().Bytes()).Run(Tensor.Zeros(5, 2, 6, 6))[0].Shape);

    [Fact]
    public void Truncated_file_is_not_a_valid_onnx_file()
    {
        var bytes = SmallCnn().Bytes();
        Assert.Contains("not a valid ONNX file", Rejects(bytes[..(bytes.Length / 2)]).Message);
    }

    [Fact]
    public void Unknown_op_names_op_node_and_opset()
    {
        var g = SmallCnn();
        g.Node("FancyOp", ["y"], ["z"]);
        var message = Rejects(g.Bytes()).Message;
        Assert.Contains("'FancyOp'", message);
        Assert.Contains("node 'FancyOp_6'", message);
        Assert.Contains("opset 13", message);
    }

    [Fact]
    public void Cycle_is_reported_not_run()
    {
        var g = new OnnxGraphBuilder().Input("x", 2).Node("Add", ["x", "b"], ["a"]).Node("Relu", ["a"], ["b"]).Output("b");
        Assert.Contains("cycle", Rejects(g.Bytes()).Message);
    }

    [Fact]
    public void Undefined_input_is_named()
    {
        var g = new OnnxGraphBuilder().Input("x", 2).Node("Add", ["x", "ghost"], ["y"]).Output("y");
        Assert.Contains("'ghost'", Rejects(g.Bytes()).Message);
    }

    [Fact]
    public void Huge_declared_initializer_without_data_is_rejected_before_allocating()
    {
        var g = SmallCnn();
        var huge = new TensorProto { Name = "huge", DataType = OnnxDataType.Float };
        huge.Dims.AddRange([1L << 20, 1L << 20, 1L << 10]);
        g.Graph.Initializer.Add(huge);
        Assert.Contains("more than the limit", Rejects(g.Bytes()).Message);
        var big = new TensorProto { Name = "big", DataType = OnnxDataType.Float };
        big.Dims.AddRange([1L << 14, 1L << 14]);
        g.Graph.Initializer.RemoveAt(g.Graph.Initializer.Count - 1);
        g.Graph.Initializer.Add(big);
        Assert.Contains("holds 0 values but shape [16384, 16384] needs 268435456", Rejects(g.Bytes()).Message);
    }

    [Fact]
    public void Huge_computed_shape_is_rejected()
    {
        var g = new OnnxGraphBuilder().Input("x", 1).Initializer("s", Tensor.FromArray(new long[] { 1 << 20, 1 << 20 }, 2))
            .Node("ConstantOfShape", ["s"], ["c"]).Node("Add", ["x", "c"], ["y"]).Output("y");
        Assert.Contains("more than the limit", Rejects(g.Bytes()).Message);
    }

    [Fact]
    public void Wrong_attribute_type_is_named()
    {
        var g = new OnnxGraphBuilder().Input("x", 1, 1, 4, 4).Node("MaxPool", ["x"], ["y"], Float("kernel_shape", 2)).Output("y");
        Assert.Contains("attribute 'kernel_shape' should be ints, got float", Rejects(g.Bytes(), run: true).Message);
    }

    [Fact]
    public void Wrong_element_type_is_named()
    {
        var g = SmallCnn();
        var t = new TensorProto { Name = "s", DataType = OnnxDataType.String };
        t.Dims.Add(1);
        t.StringData.Add(ByteString.CopyFromUtf8("hi"));
        g.Graph.Initializer.Add(t);
        Assert.Contains("string is not supported", Rejects(g.Bytes()).Message);
    }

    [Fact]
    public void Out_of_range_gather_index_is_named_with_its_node()
    {
        var g = SmallCnn();
        g.Graph.Initializer.Single(i => i.Name == "idx").RawData = ByteString.CopyFrom(BitConverter.GetBytes(0L).Concat(BitConverter.GetBytes(9L)).ToArray());
        var message = Rejects(g.Bytes(), run: true).Message;
        Assert.Contains("node 'Gather_5' (Gather, opset 13)", message);
        Assert.Contains("index 9 is out of range", message);
    }

    [Fact]
    public void Raw_data_of_the_wrong_length_is_rejected()
    {
        var g = SmallCnn();
        g.Graph.Initializer.Single(i => i.Name == "w").RawData = ByteString.CopyFrom(new byte[10]);
        Assert.Contains("raw_data holds 10 bytes", Rejects(g.Bytes()).Message);
    }

    [Fact]
    public void Unsupported_opset_is_rejected()
    {
        var model = SmallCnn().Model();
        model.OpsetImport[0].Version = 99;
        Assert.Contains("opset 99 is outside", Rejects(model.ToByteArray()).Message);
    }

    /// <summary>
    /// Random byte flips, truncations and splices of a valid model: whatever the damage, loading and running either
    /// succeed or throw <see cref="OnnxException"/> (a flipped weight byte may leave a valid model).
    /// </summary>
    [Fact]
    public void Fuzzed_files_load_run_or_fail_with_an_onnx_exception()
    {
        var original = SmallCnn().Bytes();
        var random = new System.Random(1234);
        int rejected = 0;
        for (int trial = 0; trial < 1500; trial++)
        {
            var bytes = (byte[])original.Clone();
            switch (trial % 3)
            {
                case 0:
                    for (int k = 0; k < 1 + random.Next(4); k++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                default:
                    int at = random.Next(bytes.Length), len = random.Next(1, 16);
                    bytes = [.. bytes[..at], .. Enumerable.Range(0, len).Select(_ => (byte)random.Next(256)), .. bytes[at..]];
                    break;
            }
            try
            {
                OnnxModule.Load(bytes, "fuzz.onnx").Run(Tensor.Zeros(2, 2, 6, 6));
            }
            catch (OnnxException e)
            {
                Assert.StartsWith("fuzz.onnx: ", e.Message);
                rejected++;
            }
        }
        Assert.True(rejected > 500, $"only {rejected} of 1500 damaged files were rejected");
    }
}
