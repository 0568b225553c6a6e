namespace Loom.Data.Tests.Readers;

public class IdxTests
{
    private static byte[] Header(byte type, params int[] dims)
    {
        var h = new byte[4 + 4 * dims.Length];
        h[2] = type;
        h[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(h.AsSpan(4 + 4 * i), dims[i]);
        return h;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(bytes);
        return ms.ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_read_as_written(bool gzip)
    {
        using var dir = new TempDir();
        var images = Tensor.FromArray(Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)(i * 4)).ToArray(), 3, 4, 5);
        IdxWriter.Write(dir.File("img"), images, gzip);
        IdxWriter.Write(dir.File("lbl"), Tensor.FromArray(new byte[] { 7, 0, 9 }), gzip);
        var read = IdxReader.ReadImages(dir.File("img"));
        Assert.Equal(DType.UInt8, read.DType);
        Assert.Equal(new Shape(3, 4, 5), read.Shape);
        Assert.Equal(images.ToArray<byte>(), read.ToArray<byte>());
        var labels = IdxReader.ReadLabels(dir.File("lbl"));
        Assert.Equal(DType.Int64, labels.DType);
        Assert.Equal(new long[] { 7, 0, 9 }, labels.ToArray<long>());
    }

    [Theory]
    [InlineData(DType.Int8)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Other_element_types_round_trip_big_endian(DType dtype)
    {
        using var dir = new TempDir();
        var t = Tensor.FromArray(new double[] { -3, 0, 1.5, 100, -128, 127 }, 2, 3).To(dtype);
        IdxWriter.Write(dir.File("t"), t);
        var r = IdxReader.Read(dir.File("t"));
        Assert.Equal(dtype, r.DType);
        Assert.Equal(t.ToArray<double>(), r.ToArray<double>());
        var raw = File.ReadAllBytes(dir.File("t"));
        if (dtype == DType.Int32) Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFD }, raw[12..16]); // −3, big-endian
    }

    [Fact]
    public void Int16_elements_widen_to_int32()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("s"), [.. Header(0x0B, 2), 0xFF, 0xFE, 0x01, 0x00]);
        Assert.Equal(new[] { -2, 256 }, IdxReader.Read(dir.File("s")).ToArray<int>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_data_is_rejected_naming_the_file_and_the_declared_shape(bool gzip)
    {
        using var dir = new TempDir();
        var bytes = Header(0x08, 2, 28, 28).Concat(new byte[2 * 784 - 10]).ToArray();
        File.WriteAllBytes(dir.File("short.idx"), gzip ? Gzip(bytes) : bytes);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("short.idx")), "short.idx", "[2, 28, 28]", "truncated");
    }

    [Fact]
    public void Dimensions_exceeding_the_file_are_rejected_before_allocating()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("huge"), [.. Header(0x0D, 2147483647, 2147483647, 100), 1, 2, 3, 4]);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("huge")), "huge", "[2147483647, 2147483647, 100]", "only 20 bytes");
        byte[] neg = [.. Header(0x08, 1), 5];
        BinaryPrimitives.WriteUInt32BigEndian(neg.AsSpan(4), 0xFFFFFFFF);
        File.WriteAllBytes(dir.File("neg"), neg);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("neg")), "neg", "4294967295");
    }

    [Fact]
    public void Trailing_bytes_and_truncated_headers_are_rejected()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("long"), [.. Header(0x08, 3), 1, 2, 3, 4]);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("long")), "long", "[3]", "1 unexpected trailing");
        File.WriteAllBytes(dir.File("hdr"), Header(0x08, 3, 4)[..9]);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("hdr")), "hdr", "truncated header", "2 dimensions");
        File.WriteAllBytes(dir.File("tiny"), [0, 0]);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("tiny")), "tiny", "too short");
    }

    [Fact]
    public void Wrong_magic_is_rejected_naming_it()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("png"), [0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0]);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("png")), "png", "wrong magic 0x89504E47");
        File.WriteAllBytes(dir.File("type"), [0, 0, 0x42, 1, 0, 0, 0, 0]);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("type")), "type", "type code 0x42");
        File.WriteAllBytes(dir.File("gz"), [0x1F, 0x8B, 8, 0, 1, 2, 3]);
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.Read(dir.File("gz")), "gz");
    }

    [Fact]
    public void ReadImages_and_ReadLabels_check_the_kind_of_file()
    {
        using var dir = new TempDir();
        IdxWriter.Write(dir.File("labels"), Tensor.FromArray(new byte[] { 1, 2 }));
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.ReadImages(dir.File("labels")), "labels", "images [N, H, W]", "[2]");
        IdxWriter.Write(dir.File("floats"), Tensor.Zeros(2));
        TensorAssert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(dir.File("floats")), "floats", "float32");
    }
}
