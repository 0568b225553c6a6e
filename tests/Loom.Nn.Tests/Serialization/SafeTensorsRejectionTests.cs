using System.Text;
using static Loom.Nn.Tests.Serialization.SafeTensorsTestHelpers;

namespace Loom.Nn.Tests.Serialization;

/// <summary>Every malformed file is refused with a <see cref="SafeTensorsFormatException"/> that says what is wrong and where.</summary>
public class SafeTensorsRejectionTests
{
    private static SafeTensorsFormatException Rejects(byte[] file, params string[] fragments) => Rejects(file, true, fragments);

    private static SafeTensorsFormatException Rejects(byte[] file, bool seekable, params string[] fragments) =>
        TensorAssert.Throws<SafeTensorsFormatException>(() => Read(file, seekable), fragments);

    private const string F32Pair = """{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""";

    // ---------------------------------------------------------------- length prefix and header bytes

    [Fact]
    public void File_shorter_than_eight_bytes()
    {
        Rejects([1, 2, 3], "3 bytes long", "8-byte header length");
        Rejects([], "0 bytes long");
        Rejects([1, 2, 3], seekable: false, "3 bytes long");
    }

    [Fact]
    public void Header_length_beyond_the_file()
    {
        var file = Build(Encoding.UTF8.GetBytes("{}      "), [], declaredLength: 100);
        Rejects(file, "header length 100 runs past the end of the file (16 bytes)");
        Rejects(file, seekable: false, "ends inside the header (16 of 108 bytes)");
    }

    [Fact]
    public void Header_length_above_the_limit()
    {
        Rejects(Build([], [], declaredLength: 100_000_001), "header length 100000001 is above the limit of 100000000 bytes");
        Rejects(Build([], [], declaredLength: ulong.MaxValue), $"header length {ulong.MaxValue} is above the limit");
    }

    [Fact]
    public void Header_that_is_not_utf8()
    {
        var header = Encoding.UTF8.GetBytes("""{"a\u00e9":{}}   """);
        header[3] = 0xFF; // breaks the two-byte sequence of é
        Rejects(Build(header, [], (ulong)header.Length), "not valid UTF-8");
    }

    [Theory]
    [InlineData("{\"w\":")]
    [InlineData("{'w': 1}")]
    [InlineData("{\"__metadata__\":{},}")]
    [InlineData("{} {}")]
    [InlineData("{} x")]
    [InlineData("{\"w\":{\"dtype\":\"F32\" /* c */}}")]
    public void Header_that_is_not_json(string header) => Rejects(Build(header, 0), "the header is not valid JSON");

    [Theory]
    [InlineData("[1, 2]", "starts with an array")]
    [InlineData("\"text\"", "starts with the string \"text\"")]
    [InlineData("42", "starts with the number 42")]
    [InlineData("null", "starts with null")]
    public void Header_that_is_not_an_object(string header, string fragment) => Rejects(Build(header, 0), "must be a JSON object", fragment);

    [Fact]
    public void Empty_header() => Rejects(Build("", [], pad: false));

    // ---------------------------------------------------------------- entries

    private static byte[] OneEntry(string entry, int dataLength = 8) => Build($$"""{"w":{{entry}}}""", dataLength);

    [Theory]
    [InlineData("3", "must be an object with dtype, shape and data_offsets, not the number 3")]
    [InlineData("[]", "not an array")]
    [InlineData("""{"shape":[2],"data_offsets":[0,8]}""", "missing field 'dtype'")]
    [InlineData("""{"dtype":"F32","data_offsets":[0,8]}""", "missing field 'shape'")]
    [InlineData("""{"dtype":"F32","shape":[2]}""", "missing field 'data_offsets'")]
    [InlineData("""{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}""", "unexpected field 'extra'")]
    [InlineData("""{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}""", "field 'dtype' appears twice")]
    [InlineData("""{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}""", "field 'shape' appears twice")]
    [InlineData("""{"dtype":"F32","shape":[2],"data_offsets":[0,8],"data_offsets":[0,8]}""", "field 'data_offsets' appears twice")]
    [InlineData("""{"dtype":5,"shape":[2],"data_offsets":[0,8]}""", "dtype must be a string, not the number 5")]
    [InlineData("""{"dtype":"F31","shape":[2],"data_offsets":[0,8]}""", "unknown dtype 'F31'")]
    [InlineData("""{"dtype":"f32","shape":[2],"data_offsets":[0,8]}""", "unknown dtype 'f32'")]
    [InlineData("""{"dtype":"U16","shape":[4],"data_offsets":[0,8]}""", "dtype 'U16' is not supported by Loom")]
    [InlineData("""{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}""", "dtype 'F8_E4M3' is not supported by Loom")]
    [InlineData("""{"dtype":"F32","shape":2,"data_offsets":[0,8]}""", "shape must be an array of integers, not the number 2")]
    [InlineData("""{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}""", "shape must be an array of integers, but holds the string \"2\"")]
    [InlineData("""{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}""", "shape must be an array of integers, but holds an array")]
    [InlineData("""{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}""", "shape holds the negative number -2")]
    [InlineData("""{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}""", "shape holds 2.0, which is not a non-negative 64-bit integer")]
    [InlineData("""{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}""", "shape holds 2e0, which is not")]
    [InlineData("""{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}""", "shape holds 18446744073709551616, which is not")]
    [InlineData("""{"dtype":"F32","shape":[2],"data_offsets":[0]}""", "data_offsets must hold 2 integers [begin, end], not 1")]
    [InlineData("""{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}""", "data_offsets must hold 2 integers [begin, end], not 3")]
    [InlineData("""{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}""", "data_offsets holds the negative number -8")]
    [InlineData("""{"dtype":"F32","shape":[2],"data_offsets":{"begin":0}}""", "data_offsets must be an array of integers, not an object")]
    public void Malformed_entry_names_the_tensor_and_the_fault(string entry, string fragment)
    {
        var ex = Rejects(OneEntry(entry), "tensor 'w'", fragment);
        Assert.Equal("w", ex.TensorName);
    }

    [Fact]
    public void Shape_whose_element_count_overflows()
    {
        Rejects(OneEntry("""{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,8]}"""),
            "tensor 'w'", "element count of shape [4294967296, 4294967296] overflows");
        // Overflow is refused even when a later zero would bring the product back down, as the reference reader does.
        Rejects(OneEntry("""{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}""", 0), "overflows");
        Rejects(OneEntry("""{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}"""),
            "tensor 'w'", "byte size of shape [4611686018427387904] of F64 overflows");
    }

    [Fact]
    public void Shape_larger_than_a_Loom_tensor()
    {
        // A stream that cannot seek has no length to check the offsets against first, so the size limit is what fails.
        var file = OneEntry("""{"dtype":"U8","shape":[2147483648],"data_offsets":[0,2147483648]}""", 0);
        Rejects(file, seekable: false, "tensor 'w'", "shape [2147483648] is larger than a Loom tensor can be");
        Rejects(OneEntry("""{"dtype":"U8","shape":[0,3000000000],"data_offsets":[0,0]}""", 0), "larger than a Loom tensor can be");
    }

    [Fact]
    public void Offsets_out_of_range()
    {
        Rejects(OneEntry(F32Pair, dataLength: 4), "tensor 'w'", "data_offsets [0, 8] run past the end of the data, which holds 4 bytes");
        Rejects(OneEntry("""{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551600,18446744073709551608]}"""), "tensor 'w'", "run past the end");
        Rejects(OneEntry(F32Pair, dataLength: 4), seekable: false, "tensor 'w'", "the file ends inside its data (data_offsets [0, 8])");
    }

    [Fact]
    public void Offsets_reversed() =>
        Rejects(OneEntry("""{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"""), "tensor 'w'", "data_offsets [8, 0] are reversed");

    [Fact]
    public void Offsets_that_do_not_match_shape_and_dtype()
    {
        Rejects(OneEntry("""{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}""", 20),
            "tensor 'w'", "data_offsets [0, 20] span 20 bytes, but shape [2, 3] of F32 needs 24");
        Rejects(OneEntry("""{"dtype":"F64","shape":[],"data_offsets":[0,4]}""", 4), "span 4 bytes, but shape [] of F64 needs 8");
    }

    [Fact]
    public void Overlapping_offsets()
    {
        var file = Build($$$"""{"a":{{{F32Pair}}},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12);
        var ex = Rejects(file, "tensor 'b'", "data_offsets [4, 12] overlap those of tensor 'a' [0, 8]");
        Assert.Equal("b", ex.TensorName);
        // Two tensors on the same bytes, and an empty tensor inside another's data.
        Rejects(Build($$"""{"a":{{F32Pair}},"b":{{F32Pair}}}""", 16), "overlap those of tensor 'a'");
        Rejects(Build($$$"""{"a":{{{F32Pair}}},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}""", 8), "tensor 'e'", "overlap");
    }

    [Fact]
    public void Offsets_that_leave_gaps()
    {
        var file = Build($$$"""{"a":{{{F32Pair}}},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}""", 20);
        Rejects(file, "tensor 'b'", "leave a gap of 4 bytes after tensor 'a' [0, 8]");
        Rejects(OneEntry("""{"dtype":"F32","shape":[2],"data_offsets":[4,12]}""", 12), "tensor 'w'", "the first tensor's data must start at 0");
    }

    [Fact]
    public void Duplicate_names()
    {
        Rejects(Build($$"""{"w":{{F32Pair}},"w":{{F32Pair}}}""", 8), "tensor 'w'", "the name appears twice");
        // The comparison is on the decoded name, so an escaped spelling is still a duplicate.
        Rejects(Build($$"""{"w":{{F32Pair}},"\u0077":{{F32Pair}}}""", 8), "tensor 'w'", "appears twice");
        Rejects(Build("""{"__metadata__":{},"__metadata__":{}}""", 0), "'__metadata__' appears twice");
    }

    [Fact]
    public void Trailing_bytes_after_the_last_tensor()
    {
        Rejects(OneEntry(F32Pair, dataLength: 12), "4 trailing bytes follow the last tensor's data (the header describes 8 of 12 bytes)");
        Rejects(OneEntry(F32Pair, dataLength: 12), seekable: false, "bytes follow the last tensor's data");
        Rejects(Build("{}", 1), "1 trailing bytes");
    }

    [Theory]
    [InlineData("""{"__metadata__":[1]}""", "'__metadata__' must be an object of strings, not an array")]
    [InlineData("""{"__metadata__":"pt"}""", "'__metadata__' must be an object of strings, not the string \"pt\"")]
    [InlineData("""{"__metadata__":{"epoch":3}}""", "'__metadata__' value of 'epoch' must be a string, not the number 3")]
    [InlineData("""{"__metadata__":{"a":{"b":"c"}}}""", "value of 'a' must be a string, not an object")]
    [InlineData("""{"__metadata__":{"a":"1","a":"2"}}""", "'__metadata__' key 'a' appears twice")]
    public void Malformed_metadata(string header, string fragment)
    {
        var ex = Rejects(Build(header, 0), fragment);
        Assert.Null(ex.TensorName);
    }

    [Fact]
    public void Null_metadata_is_read_as_none_as_the_reference_reader_does() =>
        Assert.Empty(Read(Build("""{"__metadata__":null}""", 0)).Metadata);

    [Fact]
    public void Unpadded_header_is_accepted() =>
        Assert.Equal(new Shape(2), Read(Build($$"""{"w":{{F32Pair}}}""", new byte[8], pad: false)).Tensors["w"].Shape);

    [Fact]
    public void Long_text_from_a_corrupt_header_is_shortened_in_the_message()
    {
        var ex = Rejects(OneEntry($$"""{"dtype":"{{new string('X', 5000)}}","shape":[2],"data_offsets":[0,8]}"""), "tensor 'w'", "unknown dtype 'XXXX");
        Assert.True(ex.Message.Length < 200, ex.Message);
    }

    [Fact]
    public void Load_names_the_file_in_the_message()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "broken.safetensors");
        File.WriteAllBytes(path, OneEntry(F32Pair, dataLength: 4));

        var ex = TensorAssert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path), $"safetensors file '{path}'", "tensor 'w'", "run past the end");
        Assert.Equal(path, ex.FileName);
        Assert.IsAssignableFrom<IOException>(ex);
    }

    [Fact]
    public void Header_length_prefix_is_little_endian()
    {
        var file = OneEntry(F32Pair);
        var swapped = (byte[])file.Clone();
        BinaryPrimitives.WriteUInt64BigEndian(swapped, BinaryPrimitives.ReadUInt64LittleEndian(file));
        Rejects(swapped, "above the limit");
    }
}
