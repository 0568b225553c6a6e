using static Loom.Nn.Tests.Serialization.SafeTensorsTestHelpers;

namespace Loom.Nn.Tests.Serialization;

/// <summary>The exact bytes Loom writes: the reference library's layout, so that files compare equal across implementations.</summary>
public class SafeTensorsLayoutTests
{
    private static byte[] FloatBytes(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    [Fact]
    public void An_empty_dictionary_writes_an_empty_object_padded_to_eight_bytes()
    {
        Assert.Equal(Build("{}", []), Write(new Dictionary<string, Tensor>()));
        Assert.Equal("{}      ", HeaderText(Write(new Dictionary<string, Tensor>())));
        Assert.Equal(
            Build("""{"__metadata__":{"framework":"pt"}}""", []),
            Write(new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["framework"] = "pt" }));
    }

    [Fact]
    public void One_tensor_is_written_as_the_reference_library_writes_it()
    {
        var x = Tensor.FromArray(new float[] { 0, 1, 2, 3, 4, 5 }, 1, 2, 3);

        // This header is exactly 64 bytes, so no padding; "attn0" with one more dimension needs 7 spaces.
        Assert.Equal(
            Build("""{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}""", FloatBytes(0, 1, 2, 3, 4, 5), pad: false),
            Write(new Dictionary<string, Tensor> { ["attn.0"] = x }));
        var padded = Write(new Dictionary<string, Tensor> { ["attn0"] = x.Reshape(1, 1, 2, 3) });
        Assert.Equal("""{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       """, HeaderText(padded));
    }

    [Fact]
    public void Header_is_padded_with_spaces_so_the_data_starts_eight_byte_aligned()
    {
        for (int length = 1; length <= 16; length++)
        {
            var name = new string('n', length);
            var bytes = Write(new Dictionary<string, Tensor> { [name] = Tensor.Ones(3) });

            long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0, headerLength % 8);
            var text = HeaderText(bytes);
            Assert.Equal(text.TrimEnd(' ').Length, text.LastIndexOf('}') + 1);
            Assert.True(text.Length - text.TrimEnd(' ').Length < 8);
            Assert.Equal(8 + headerLength + 12, bytes.Length);
        }
    }

    [Fact]
    public void Tensors_are_sorted_by_dtype_widest_first_then_by_name_as_utf8()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["b"] = Tensor.Zeros(new Shape(1), DType.Bool),
            ["u"] = Tensor.Zeros(new Shape(1), DType.UInt8),
            ["i8"] = Tensor.Zeros(new Shape(1), DType.Int8),
            ["f32.b"] = Tensor.Zeros(1),
            ["f32.a"] = Tensor.Zeros(1),
            ["f32.\U0001F600"] = Tensor.Zeros(1), // UTF-16 sorts this before U+FF21; UTF-8 after
            ["f32.\uFF21"] = Tensor.Zeros(1),
            ["f32.B"] = Tensor.Zeros(1),
            ["d"] = Tensor.Zeros(new Shape(1), DType.Float64),
            ["i32"] = Tensor.Zeros(new Shape(1), DType.Int32),
            ["i64"] = Tensor.Zeros(new Shape(1), DType.Int64),
        };

        var file = Read(Write(tensors));

        Assert.Equal(["i64", "d", "f32.B", "f32.a", "f32.b", "f32.\uFF21", "f32.\U0001F600", "i32", "i8", "u", "b"], file.Tensors.Keys);
    }

    [Fact]
    public void Data_offsets_pack_the_tensors_in_header_order()
    {
        var bytes = Write(new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.Zeros(new Shape(3), DType.Int64),
            ["b"] = Tensor.Zeros(2, 2),
            ["c"] = Tensor.Zeros(0, 5),
            ["d"] = Tensor.Zeros(new Shape(5), DType.UInt8),
        });

        Assert.Equal(
            """{"a":{"dtype":"I64","shape":[3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[2,2],"data_offsets":[24,40]},"c":{"dtype":"F32","shape":[0,5],"data_offsets":[40,40]},"d":{"dtype":"U8","shape":[5],"data_offsets":[40,45]}}""",
            HeaderText(bytes).TrimEnd(' '));
    }

    [Fact]
    public void Names_are_escaped_as_serde_json_escapes_them()
    {
        var name = "q\"b\\n\nt\tr\rf\fb\bc\u0001\u001fdel\u007fé😀</";

        var text = HeaderText(Write(new Dictionary<string, Tensor> { [name] = Tensor.Zeros(0) }));

        Assert.StartsWith("{\"q\\\"b\\\\n\\nt\\tr\\rf\\fb\\bc\\u0001\\u001fdel\u007fé😀</\":", text);
        Assert.Equal(name, Read(Write(new Dictionary<string, Tensor> { [name] = Tensor.Zeros(0) })).Tensors.Keys.Single());
    }

    [Fact]
    public void Metadata_comes_first_sorted_by_key()
    {
        var text = HeaderText(Write(
            new Dictionary<string, Tensor> { ["a"] = Tensor.Zeros(0) },
            new Dictionary<string, string> { ["z"] = "1", ["b"] = "2", ["\u00e9"] = "3" }));

        Assert.StartsWith("""{"__metadata__":{"b":"2","z":"1","é":"3"},"a":""", text);
    }

    [Fact]
    public void Invalid_arguments_are_rejected_before_anything_is_written()
    {
        var stream = new MemoryStream();
        TensorAssert.Throws<ArgumentException>(
            () => SafeTensors.Write(stream, new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Zeros(1) }), "__metadata__", "reserved");
        TensorAssert.Throws<ArgumentException>(
            () => SafeTensors.Write(stream, new Dictionary<string, Tensor> { ["w"] = null! }), "'w'", "null");
        TensorAssert.Throws<ArgumentException>(
            () => SafeTensors.Write(stream, new Dictionary<string, Tensor> { ["bad\uD800"] = Tensor.Zeros(1) }), "lone surrogate");
        TensorAssert.Throws<ArgumentException>(
            () => SafeTensors.Write(stream, new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["k"] = null! }), "metadata");
        Assert.Equal(0, stream.Length);
    }
}
