using static Loom.Nn.Tests.Serialization.SafeTensorsTestHelpers;

namespace Loom.Nn.Tests.Serialization;

public class SafeTensorsRoundTripTests
{
    public static TheoryData<DType> AllDTypes() => [.. Enum.GetValues<DType>()];

    /// <summary>Values covering each dtype's range (floats include negatives and non-integers).</summary>
    private static Tensor Values(int seed, DType dtype, params int[] shape)
    {
        var g = new Generator((ulong)seed);
        return dtype switch
        {
            DType.Float32 or DType.Float64 => TestTensors.Randn(seed, dtype, shape),
            DType.Int32 => Tensor.Randint(int.MinValue, int.MaxValue, new Shape(shape), g, dtype),
            DType.Int64 => Tensor.Randint(-(1L << 52), 1L << 52, new Shape(shape), g, dtype),
            DType.UInt8 => Tensor.Randint(0, 256, new Shape(shape), g, dtype),
            DType.Int8 => Tensor.Randint(-128, 128, new Shape(shape), g, dtype),
            DType.Bool => Tensor.Randint(0, 2, new Shape(shape), g, dtype),
            _ => throw new NotSupportedException(dtype.ToString()),
        };
    }

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void Every_dtype_round_trips_bit_exactly_in_every_shape(DType dtype)
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["scalar"] = Values(1, dtype),
            ["empty"] = Values(2, dtype, 0, 3),
            ["empty_middle"] = Values(3, dtype, 4, 0, 2),
            ["cube"] = Values(4, dtype, 3, 5, 2),
        };
        foreach (var n in TestTensors.OddSizes) tensors[$"vector{n}"] = Values(10 + n, dtype, n);

        var file = Read(Write(tensors));

        AssertIdentical(tensors, file.Tensors);
        Assert.Equal(0, file.Tensors["scalar"].Rank);
    }

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void Non_contiguous_tensors_are_written_as_their_row_major_contents(DType dtype)
    {
        var source = Values(7, dtype, 4, 6);
        var views = new Dictionary<string, Tensor>
        {
            ["transposed"] = source.Transpose(0, 1),
            ["strided"] = TestTensors.NonContiguous(source),
            ["offset_slice"] = source.Slice(0, 1, 4).Slice(1, 1, 6, 2),
            ["selected_column"] = source.Select(1, 3),
            ["broadcast"] = source.Select(0, 2).Expand(3, 6),
        };
        Assert.All(views.Values, v => Assert.False(v.IsContiguous));

        var file = Read(Write(views));

        AssertIdentical(views.ToDictionary(p => p.Key, p => p.Value.Contiguous()), file.Tensors);
    }

    [Fact]
    public void Special_float_values_keep_their_bits()
    {
        var floats = Tensor.FromArray(new[]
        {
            float.NaN, BitConverter.Int32BitsToSingle(0x7FC00001), float.PositiveInfinity, float.NegativeInfinity,
            -0f, float.Epsilon, float.MaxValue, float.MinValue,
        });
        var doubles = Tensor.FromArray(new[] { double.NaN, -0.0, double.Epsilon, double.MaxValue, double.NegativeInfinity });
        var tensors = new Dictionary<string, Tensor> { ["f"] = floats, ["d"] = doubles };

        AssertIdentical(tensors, Read(Write(tensors)).Tensors);
    }

    [Fact]
    public void A_tensor_that_requires_grad_is_written_without_touching_its_graph()
    {
        var weight = TestTensors.Param(3, 3, 4);
        var view = weight.Transpose(0, 1); // records a backward node

        var file = Read(Write(new Dictionary<string, Tensor> { ["w"] = view }));

        AssertIdentical(view.Detach().Contiguous(), file.Tensors["w"]);
        Assert.False(file.Tensors["w"].RequiresGrad);
        Assert.Null(weight.Grad);
    }

    [Fact]
    public void Metadata_round_trips_with_unicode_and_characters_that_need_escaping()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["quote\"and\\backslash"] = "line\nbreak\ttab\u0001\u001f\u007f",
            ["ünïcödé"] = "日本語 😀",
            [""] = "",
        };

        var file = Read(Write(new Dictionary<string, Tensor>(), metadata));

        Assert.Equal(metadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata);
    }

    [Fact]
    public void Null_or_empty_metadata_is_omitted_and_reads_back_empty()
    {
        var tensors = new Dictionary<string, Tensor> { ["x"] = Tensor.Ones(2) };

        var withNull = Write(tensors);
        var withEmpty = Write(tensors, new Dictionary<string, string>());

        Assert.Equal(withNull, withEmpty);
        Assert.DoesNotContain("__metadata__", HeaderText(withNull));
        Assert.Empty(Read(withNull).Metadata);
    }

    [Fact]
    public void Save_and_Load_round_trip_through_a_file()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "model.safetensors");
        var tensors = new Dictionary<string, Tensor> { ["a.weight"] = TestTensors.Randn(5, DType.Float32, 17, 33), ["a.bias"] = Tensor.Zeros(33) };
        var metadata = new Dictionary<string, string> { ["epoch"] = "3" };

        SafeTensors.Save(path, tensors, metadata);
        var file = SafeTensors.Load(path);

        AssertIdentical(tensors, file.Tensors);
        Assert.Equal("3", file.Metadata["epoch"]);
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_stream_that_cannot_seek_reads_the_same_tensors()
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var dtype in Enum.GetValues<DType>()) tensors[dtype.ToString()] = Values((int)dtype, dtype, 3, 1001);
        var bytes = Write(tensors, new Dictionary<string, string> { ["k"] = "v" });

        var file = Read(bytes, seekable: false);

        AssertIdentical(tensors, file.Tensors);
        Assert.Equal("v", file.Metadata["k"]);
    }

    [Fact]
    public void Read_starts_at_the_current_stream_position()
    {
        var tensors = new Dictionary<string, Tensor> { ["x"] = Tensor.Arange(0, 10, 1, DType.Float32) };
        var stream = new MemoryStream();
        stream.Write("prefix"u8);
        SafeTensors.Write(stream, tensors);
        stream.Position = 6;

        AssertIdentical(tensors, SafeTensors.Read(stream).Tensors);
    }

    [Fact]
    public void Tensors_load_in_data_order_whatever_the_header_order()
    {
        var bytes = Build(
            """{"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"c":{"dtype":"U8","shape":[0],"data_offsets":[3,3]}}""",
            [10, 11, 12]);

        var file = Read(bytes);

        Assert.Equal(["a", "b", "c"], file.Tensors.Keys);
        Assert.Equal(new byte[] { 10, 11 }, file.Tensors["a"].ToArray<byte>());
        Assert.Equal(new byte[] { 12 }, file.Tensors["b"].ToArray<byte>());
    }

    [Fact]
    public void Loaded_tensors_own_exact_size_memory_outside_any_memory_scope()
    {
        var bytes = Write(new Dictionary<string, Tensor> { ["a"] = Tensor.Ones(1500), ["b"] = Tensor.Ones(1500) });

        SafeTensorsFile file;
        using (new MemoryScope()) file = Read(bytes);

        var a = file.Tensors["a"];
        Assert.Equal(1500, a.Storage.RawArray.Length); // not rounded up to a pool bucket
        a.AsSpan<float>()[0] = 5; // still usable after the scope, and independent of b
        Assert.Equal(1f, file.Tensors["b"].ToArray<float>()[0]);
    }

    [Fact]
    public void Bool_bytes_other_than_zero_and_one_load_as_true()
    {
        var file = Read(Build("""{"m":{"dtype":"BOOL","shape":[4],"data_offsets":[0,4]}}""", [0, 1, 2, 255]));

        var mask = file.Tensors["m"].ToArray<bool>();
        Assert.Equal(new[] { false, true, true, true }, mask);
        Assert.Equal(new byte[] { 0, 1, 1, 1 }, Bytes(file.Tensors["m"])); // normalised, so == true holds
    }

    [Fact]
    public void Every_float16_bit_pattern_widens_exactly()
    {
        var bits = Enumerable.Range(0, 1 << 16).Select(i => (ushort)i).ToArray();
        var data = new byte[bits.Length * 2];
        for (int i = 0; i < bits.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), bits[i]);

        var file = Read(Build("""{"h":{"dtype":"F16","shape":[256,256],"data_offsets":[0,131072]}}""", data));

        var loaded = file.Tensors["h"];
        Assert.Equal(DType.Float32, loaded.DType);
        Assert.Equal(new Shape(256, 256), loaded.Shape);
        var expected = bits.Select(b => (float)BitConverter.UInt16BitsToHalf(b)).ToArray();
        AssertIdentical(Tensor.FromArray(expected, 256, 256), loaded);
    }

    [Fact]
    public void Bfloat16_widens_exactly_across_conversion_chunks()
    {
        // More elements than one conversion chunk (512 Ki), so the chunk loop and the vector tail both run.
        const int n = (1 << 19) + 37;
        var data = new byte[2 * n];
        for (int i = 0; i < n; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), (ushort)(i * 7919));

        var file = Read(Build($$$"""{"b":{"dtype":"BF16","shape":[{{{n}}}],"data_offsets":[0,{{{2 * n}}}]}}""", data), seekable: false);

        var expected = new float[n];
        for (int i = 0; i < n; i++) expected[i] = BitConverter.Int32BitsToSingle((ushort)(i * 7919) << 16);
        AssertIdentical(Tensor.FromArray(expected), file.Tensors["b"]);
    }
}

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "loom-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
