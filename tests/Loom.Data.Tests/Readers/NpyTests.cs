namespace Loom.Data.Tests.Readers;

public class NpyTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    [InlineData(DType.UInt8)]
    [InlineData(DType.Int8)]
    [InlineData(DType.Bool)]
    public void Every_dtype_round_trips(DType dtype)
    {
        using var dir = new TempDir();
        var t = Tensor.FromArray(new double[] { 0, 1, 2, 0, 1, 1 }, 2, 3).To(dtype);
        NpyWriter.Write(dir.File("t.npy"), t);
        var r = NpyReader.Read(dir.File("t.npy"));
        Assert.Equal(dtype, r.DType);
        Assert.Equal(t.Shape, r.Shape);
        Assert.Equal(t.ToArray<double>(), r.ToArray<double>());
        Assert.Equal(0, (File.ReadAllBytes(dir.File("t.npy")).Length - t.Numel * dtype.SizeInBytes()) % 64); // data 64-byte aligned
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(257)]
    public void Odd_shapes_round_trip_including_scalars_and_empty(int n)
    {
        using var dir = new TempDir();
        foreach (var t in new[] { TestTensors.Randn(n, DType.Float32, n), TestTensors.Randn(n, DType.Float64, n, 0, 2), Tensor.Scalar(n) })
        {
            NpyWriter.Write(dir.File("t.npy"), TestTensors.NonContiguous(t));
            var r = NpyReader.Read(dir.File("t.npy"));
            Assert.Equal(t.Shape, r.Shape);
            Assert.Equal(t.ToArray<double>(), r.ToArray<double>());
        }
    }

    [Fact]
    public void Writer_emits_the_header_numpy_writes()
    {
        using var dir = new TempDir();
        NpyWriter.Write(dir.File("v.npy"), Tensor.Zeros(5));
        var bytes = File.ReadAllBytes(dir.File("v.npy"));
        Assert.Equal(NpyMagic, bytes[..6]);
        Assert.Equal(new byte[] { 1, 0, 118, 0 }, bytes[6..10]);
        var header = Encoding.ASCII.GetString(bytes, 10, 118);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", header);
        Assert.EndsWith(" \n", header);
    }

    private static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private static byte[] Npy(string dict, byte[] data, int major = 1)
    {
        var h = Encoding.UTF8.GetBytes(dict + "\n");
        var pre = new List<byte>(NpyMagic) { (byte)major, 0 };
        if (major == 1) pre.AddRange(BitConverter.GetBytes((ushort)h.Length));
        else pre.AddRange(BitConverter.GetBytes((uint)h.Length));
        return [.. pre, .. h, .. data];
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Versions_2_and_3_headers_are_read(int major)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("v.npy"), Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", [1, 0, 0, 0, 2, 0, 0, 0], major));
        Assert.Equal(new[] { 1, 2 }, NpyReader.Read(dir.File("v.npy")).ToArray<int>());
    }

    [Fact]
    public void Fortran_order_is_transposed_into_row_major()
    {
        using var dir = new TempDir();
        // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1, 4, 2, 5, 3, 6.
        var data = new double[] { 1, 4, 2, 5, 3, 6 }.SelectMany(BitConverter.GetBytes).ToArray();
        File.WriteAllBytes(dir.File("f.npy"), Npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", data));
        var t = NpyReader.Read(dir.File("f.npy"));
        Assert.Equal(new Shape(2, 3), t.Shape);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, t.ToArray<double>());
    }

    [Fact]
    public void Big_endian_data_is_byte_swapped()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("b.npy"), Npy("{'descr': '>i8', 'fortran_order': False, 'shape': (1,)}", [0, 0, 0, 0, 0, 0, 1, 2]));
        Assert.Equal(258L, NpyReader.Read(dir.File("b.npy")).ToArray<long>()[0]);
    }

    [Fact]
    public void Malformed_files_are_rejected_naming_the_file_and_the_problem()
    {
        using var dir = new TempDir();
        void Expect(byte[] bytes, params string[] fragments)
        {
            File.WriteAllBytes(dir.File("bad.npy"), bytes);
            TensorAssert.Throws<InvalidDataException>(() => NpyReader.Read(dir.File("bad.npy")), ["bad.npy", .. fragments]);
        }
        Expect(Encoding.ASCII.GetBytes("PK\x03\x04 not npy"), "magic");
        Expect(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", new byte[20]), "[3, 2]", "24 data bytes", "20", "truncated");
        Expect(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[8]), "trailing");
        Expect(Npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new byte[16]), "'<c16'");
        Expect(Npy("{'descr': '<f4', 'shape': (1,), }", new byte[4]), "fortran_order");
        Expect(Npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", new byte[4]), "True or False");
        Expect(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new byte[4]), "dimension");
        Expect(Npy("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", [7]), "byte value 7");
        Expect(Npy("{'descr': '<f4'", [], 4), "version 4.0");
        var cut = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        Expect(cut[..30], "truncated");
    }
}
