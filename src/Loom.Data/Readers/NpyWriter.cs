using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Loom.Data;

/// <summary>Writes tensors as NumPy <c>.npy</c> files (version 1.0, or 2.0 when the header needs it), readable by <c>numpy.load</c>.</summary>
public static class NpyWriter
{
    public static void Write(string path, Tensor tensor)
    {
        using var file = File.Create(path);
        Write(file, tensor);
    }

    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string descr = tensor.DType switch
        {
            DType.Float32 => "<f4",
            DType.Float64 => "<f8",
            DType.Int32 => "<i4",
            DType.Int64 => "<i8",
            DType.UInt8 => "|u1",
            DType.Int8 => "|i1",
            DType.Bool => "|b1",
            _ => throw new ArgumentException($"NpyWriter: no .npy descr for dtype {tensor.DType.Name()}"),
        };
        // A one-element tuple needs its trailing comma: (5,).
        string shape = tensor.Rank == 1 ? $"({tensor.Shape[0]},)" : $"({string.Join(", ", tensor.Shape.ToArray())})";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        // NumPy pads the header with spaces and a final newline so the data starts at a multiple of 64 bytes.
        int preamble = 10;
        int total = Align(preamble + dict.Length + 1, 64);
        int major = 1;
        if (total - preamble > ushort.MaxValue)
        {
            (major, preamble) = (2, 12);
            total = Align(preamble + dict.Length + 1, 64);
        }
        var header = new byte[total];
        NpyReader.Magic.CopyTo(header);
        header[6] = (byte)major;
        header[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(total - preamble));
        else BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)(total - preamble));
        Encoding.ASCII.GetBytes(dict, header.AsSpan(preamble));
        header.AsSpan(preamble + dict.Length, total - preamble - dict.Length - 1).Fill((byte)' ');
        header[^1] = (byte)'\n';
        stream.Write(header);
        switch (tensor.DType)
        {
            case DType.Float32: stream.Write(MemoryMarshal.AsBytes(tensor.ToArray<float>().AsSpan())); break;
            case DType.Float64: stream.Write(MemoryMarshal.AsBytes(tensor.ToArray<double>().AsSpan())); break;
            case DType.Int32: stream.Write(MemoryMarshal.AsBytes(tensor.ToArray<int>().AsSpan())); break;
            case DType.Int64: stream.Write(MemoryMarshal.AsBytes(tensor.ToArray<long>().AsSpan())); break;
            case DType.UInt8: stream.Write(tensor.ToArray<byte>()); break;
            case DType.Int8: stream.Write(MemoryMarshal.AsBytes(tensor.ToArray<sbyte>().AsSpan())); break;
            default: stream.Write(MemoryMarshal.AsBytes(tensor.ToArray<bool>().AsSpan())); break;
        }
    }

    private static int Align(int n, int to) => (n + to - 1) / to * to;
}
