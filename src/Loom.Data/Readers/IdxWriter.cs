using System.Buffers.Binary;
using System.IO.Compression;

namespace Loom.Data;

/// <summary>Writes tensors as IDX files (see <see cref="IdxReader"/>), optionally gzipped.</summary>
public static class IdxWriter
{
    /// <summary>Writes UInt8, Int8, Int32, Float32 or Float64 tensors of rank ≥ 1.</summary>
    public static void Write(string path, Tensor tensor, bool gzip = false)
    {
        using var file = File.Create(path);
        if (gzip)
        {
            using var gz = new GZipStream(file, CompressionLevel.Optimal);
            Write(gz, tensor);
        }
        else
        {
            Write(file, tensor);
        }
    }

    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Rank is < 1 or > 255) throw new ArgumentException($"IdxWriter: IDX needs 1 to 255 dimensions, got shape {tensor.Shape}");
        byte type = tensor.DType switch
        {
            DType.UInt8 => 0x08,
            DType.Int8 => 0x09,
            DType.Int32 => 0x0C,
            DType.Float32 => 0x0D,
            DType.Float64 => 0x0E,
            _ => throw new ArgumentException($"IdxWriter: IDX has no type for dtype {tensor.DType.Name()}"),
        };
        var header = new byte[4 + 4 * tensor.Rank];
        header[2] = type;
        header[3] = (byte)tensor.Rank;
        for (int i = 0; i < tensor.Rank; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), tensor.Shape[i]);
        stream.Write(header);
        int size = tensor.DType.SizeInBytes();
        var data = new byte[tensor.Numel * size];
        switch (tensor.DType)
        {
            case DType.UInt8: tensor.ToArray<byte>().CopyTo(data, 0); break;
            case DType.Int8: System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensor.ToArray<sbyte>().AsSpan()).CopyTo(data); break;
            case DType.Int32:
                {
                    var v = tensor.ToArray<int>();
                    for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4 * i), v[i]);
                    break;
                }
            case DType.Float32:
                {
                    var v = tensor.ToArray<float>();
                    for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(4 * i), v[i]);
                    break;
                }
            default:
                {
                    var v = tensor.ToArray<double>();
                    for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteDoubleBigEndian(data.AsSpan(8 * i), v[i]);
                    break;
                }
        }
        stream.Write(data);
    }
}
