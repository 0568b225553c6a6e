using System.Buffers;
using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Nn.Serialization;

// Reading: the whole header is validated before any tensor is allocated (on a seekable stream, against the real data
// length), then each tensor's bytes are read straight into its own exact-size array, in file order. Half-precision data
// (F16, BF16) goes through a small scratch buffer and widens to Float32 on the way in.
public static partial class SafeTensors
{
    /// <summary>Reads the safetensors file at <paramref name="path"/>; throws <see cref="SafeTensorsFormatException"/> if it is malformed.</summary>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 12, FileOptions.SequentialScan);
        return Read(stream, path);
    }

    /// <summary>
    /// Reads one safetensors file from <paramref name="stream"/>, starting at its current position and consuming it to the
    /// end (the format has no terminator: bytes after the last tensor are an error).
    /// </summary>
    /// <remarks>
    /// A seekable stream is checked against its length before anything is allocated. A stream that cannot seek is checked
    /// as it is read, so a corrupt header can make it allocate a tensor before the truncation is found.
    /// </remarks>
    public static SafeTensorsFile Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, fileName: null);
    }

    private static SafeTensorsFile Read(Stream stream, string? fileName)
    {
        long? available = stream.CanSeek ? Math.Max(0, stream.Length - stream.Position) : null;

        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got < prefix.Length)
            throw new SafeTensorsFormatException(fileName, null, $"the file is {got} bytes long, too short to hold the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > SafeTensorsHeader.MaxLength)
            throw new SafeTensorsFormatException(fileName, null, $"the header length {headerLength} is above the limit of {SafeTensorsHeader.MaxLength} bytes");
        if (available is { } total && (long)headerLength > total - 8)
            throw new SafeTensorsFormatException(fileName, null, $"the header length {headerLength} runs past the end of the file ({total} bytes)");

        var headerBytes = new byte[headerLength];
        got = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (got < headerBytes.Length)
            throw new SafeTensorsFormatException(fileName, null, $"the file ends inside the header ({8 + got} of {8 + headerBytes.Length} bytes)");

        var header = SafeTensorsHeader.Parse(headerBytes, available - 8 - (long)headerLength, fileName);
        var tensors = new OrderedDictionary<string, Tensor>(header.Entries.Count, StringComparer.Ordinal);
        foreach (var entry in header.Entries)
            tensors.Add(entry.Name, ReadTensor(stream, entry, fileName));
        if (available is null && stream.ReadByte() >= 0)
            throw new SafeTensorsFormatException(fileName, null, $"bytes follow the last tensor's data (the header describes {header.DataLength} bytes)");
        return new SafeTensorsFile(tensors, header.Metadata);
    }

    private static Tensor ReadTensor(Stream stream, SafeTensorsEntry entry, string? fileName)
    {
        var shape = new Shape(entry.Shape);
        switch (entry.DType)
        {
            case SafeTensorsDType.F32: return ReadElements<float>(stream, entry, shape, fileName);
            case SafeTensorsDType.F64: return ReadElements<double>(stream, entry, shape, fileName);
            case SafeTensorsDType.I32: return ReadElements<int>(stream, entry, shape, fileName);
            case SafeTensorsDType.I64: return ReadElements<long>(stream, entry, shape, fileName);
            case SafeTensorsDType.U8: return ReadElements<byte>(stream, entry, shape, fileName);
            case SafeTensorsDType.I8: return ReadElements<sbyte>(stream, entry, shape, fileName);
            case SafeTensorsDType.BOOL:
                {
                    var result = ReadElements<bool>(stream, entry, shape, fileName);
                    // Any non-zero byte is true (as in NumPy), but a .NET bool must hold exactly 0 or 1.
                    var bytes = MemoryMarshal.AsBytes(result.AsSpan<bool>());
                    TensorPrimitives.Min(bytes, (byte)1, bytes);
                    return result;
                }
            case SafeTensorsDType.F16:
            case SafeTensorsDType.BF16:
                return ReadHalfAsFloat(stream, entry, shape, fileName);
            default:
                throw new SafeTensorsFormatException(fileName, entry.Name, $"dtype {entry.DType.Code()} cannot be read");
        }
    }

    /// <summary>Reads a tensor whose file dtype is its Loom dtype, straight into a new exact-size array.</summary>
    private static Tensor ReadElements<T>(Stream stream, SafeTensorsEntry entry, Shape shape, string? fileName) where T : unmanaged
    {
        var data = GC.AllocateUninitializedArray<T>(shape.Numel);
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        int chunk = MaxChunkBytes / size;
        for (int i = 0; i < data.Length; i += chunk)
        {
            var bytes = MemoryMarshal.AsBytes(data.AsSpan(i, Math.Min(chunk, data.Length - i)));
            ReadExactly(stream, bytes, entry, fileName);
            if (!BitConverter.IsLittleEndian && size > 1) ReverseEndianness(bytes, size);
        }
        return Tensor.Wrap(data, shape);
    }

    private static Tensor ReadHalfAsFloat(Stream stream, SafeTensorsEntry entry, Shape shape, string? fileName)
    {
        var data = GC.AllocateUninitializedArray<float>(shape.Numel);
        var scratch = ArrayPool<byte>.Shared.Rent(ScratchBytes);
        try
        {
            int chunk = ScratchBytes / 2;
            for (int i = 0; i < data.Length; i += chunk)
            {
                int count = Math.Min(chunk, data.Length - i);
                var bytes = scratch.AsSpan(0, 2 * count);
                ReadExactly(stream, bytes, entry, fileName);
                var bits = MemoryMarshal.Cast<byte, ushort>(bytes);
                if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(bits, bits);
                var destination = data.AsSpan(i, count);
                if (entry.DType == SafeTensorsDType.F16) TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(bits), destination);
                else BFloat16ToSingle(bits, destination);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
        return Tensor.Wrap(data, shape);
    }

    /// <summary>bfloat16 is the top half of a float32, so widening is a 16-bit shift (exact, NaN and infinities included).</summary>
    private static void BFloat16ToSingle(ReadOnlySpan<ushort> bits, Span<float> destination)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= bits.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(bits.Slice(i, Vector256<ushort>.Count)));
                Vector256.ShiftLeft(lower, 16).AsSingle().CopyTo(destination.Slice(i));
                Vector256.ShiftLeft(upper, 16).AsSingle().CopyTo(destination.Slice(i + Vector256<uint>.Count));
            }
        }
        for (; i < bits.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
    }

    private static void ReadExactly(Stream stream, Span<byte> destination, SafeTensorsEntry entry, string? fileName)
    {
        int got = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (got < destination.Length)
            throw new SafeTensorsFormatException(fileName, entry.Name, $"the file ends inside its data (data_offsets [{entry.Begin}, {entry.End}])");
    }
}
