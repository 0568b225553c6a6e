using System.Buffers.Binary;
using System.IO.Compression;

namespace Loom.Data;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST, gzipped or not (detected from the content, not the name).
/// </summary>
/// <remarks>
/// Layout: a 4-byte magic (two zero bytes, a type code, the number of dimensions), then each dimension as a
/// big-endian uint32, then the elements row-major, big-endian. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16,
/// 0x0C int32, 0x0D float32, 0x0E float64. The header's dimensions must account for the data exactly: a file that is
/// shorter (truncated) or longer is rejected before any element is read, so a corrupt header can never cause an
/// out-of-range read or a huge allocation.
/// </remarks>
public static class IdxReader
{
    /// <summary>The whole file as a tensor: uint8 → UInt8, int8 → Int8, int16 and int32 → Int32, float32 → Float32, float64 → Float64.</summary>
    public static Tensor Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads from a stream; <paramref name="name"/> names the source in error messages.</summary>
    public static Tensor Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        // Data read from files outlives any training step: keep it out of the caller's MemoryScope.
        using var persistent = Memory.MemoryScope.Persistent();
        var (bytes, gzipped) = ReadAllBytes(stream, name);
        return Parse(bytes.Span, gzipped ? $"{name} (after gunzip)" : name);
    }

    /// <summary>An image file: uint8 elements, three dimensions [N, H, W].</summary>
    public static Tensor ReadImages(string path)
    {
        var t = Read(path);
        Expect(t, DType.UInt8, 3, path, "images [N, H, W]");
        return t;
    }

    /// <summary>A label file: one dimension [N] of uint8, returned as Int64 class indices (the dtype losses take).</summary>
    public static Tensor ReadLabels(string path)
    {
        var t = Read(path);
        Expect(t, DType.UInt8, 1, path, "labels [N]");
        return t.To(DType.Int64);
    }

    internal static void Expect(Tensor t, DType dtype, int rank, string name, string what)
    {
        if (t.DType != dtype || t.Rank != rank)
            throw new InvalidDataException($"{name}: expected {what} of {dtype.Name()}, found {t.DType.Name()} with shape {t.Shape}");
    }

    private static (Memory<byte> Bytes, bool Gzipped) ReadAllBytes(Stream stream, string name)
    {
        var source = stream;
        if (!source.CanSeek)
        {
            source = new MemoryStream();
            stream.CopyTo(source);
            source.Position = 0;
        }
        long start = source.Position;
        // A gzip stream starts with 1F 8B; a plain IDX file starts with two zero bytes instead.
        Span<byte> head = stackalloc byte[2];
        bool gzipped = source.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1F && head[1] == 0x8B;
        source.Position = start;
        var whole = new MemoryStream(Capacity(source, start, gzipped));
        if (!gzipped)
        {
            source.CopyTo(whole);
            return (whole.GetBuffer().AsMemory(0, (int)whole.Length), false);
        }
        try
        {
            using var gz = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
            gz.CopyTo(whole);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: corrupt or truncated gzip data ({ex.Message})", ex);
        }
        return (whole.GetBuffer().AsMemory(0, (int)whole.Length), true);
    }

    /// <summary>
    /// A good first capacity for the bytes: the file length, or for gzip the ISIZE trailer (the uncompressed length
    /// mod 2³²), which saves the repeated doubling of a 47 MB buffer. Only a hint: a lying trailer costs nothing.
    /// </summary>
    private static int Capacity(Stream source, long start, bool gzipped)
    {
        long length = source.Length - start;
        if (!gzipped || length < 18) return (int)Math.Clamp(length, 0, 1 << 30);
        Span<byte> trailer = stackalloc byte[4];
        source.Position = source.Length - 4;
        source.ReadExactly(trailer);
        source.Position = start;
        return (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(trailer), 1 << 30);
    }

    private static Tensor Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 4) throw new InvalidDataException($"{name}: {bytes.Length} bytes is too short for an IDX header (4-byte magic)");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{name}: wrong magic 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):X8}: an IDX file starts with two zero bytes, a type code and a dimension count (e.g. 0x00000803)");
        byte type = bytes[2];
        int rank = bytes[3];
        int elementSize = type switch
        {
            0x08 or 0x09 => 1,
            0x0B => 2,
            0x0C or 0x0D => 4,
            0x0E => 8,
            _ => throw new InvalidDataException($"{name}: unknown IDX type code 0x{type:X2} in magic 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):X8} (known: 08 uint8, 09 int8, 0B int16, 0C int32, 0D float32, 0E float64)"),
        };
        if (rank == 0) throw new InvalidDataException($"{name}: the magic declares 0 dimensions");
        int headerSize = 4 + 4 * rank;
        if (bytes.Length < headerSize)
            throw new InvalidDataException($"{name}: truncated header: {rank} dimensions need {headerSize} header bytes, the file has {bytes.Length}");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(bytes[(4 + 4 * i)..]);
            if (d > int.MaxValue) throw new InvalidDataException($"{name}: dimension {i} is {d}, beyond Loom's limit of {int.MaxValue}");
            dims[i] = (int)d;
            count = Math.Min(count * d, long.MaxValue / 16); // saturate: any overflow is far beyond the file length anyway
        }
        long expected = headerSize + count * elementSize;
        string shape = new Shape(dims).ToString();
        if (bytes.Length < expected)
            throw new InvalidDataException($"{name}: the header declares shape {shape} ({count} elements of {elementSize} bytes, {expected} bytes with the header) but the file holds only {bytes.Length} bytes: truncated, or the dimensions are wrong");
        if (bytes.Length > expected)
            throw new InvalidDataException($"{name}: the header declares shape {shape} ({expected} bytes with the header) but the file holds {bytes.Length} bytes: {bytes.Length - expected} unexpected trailing bytes");
        var data = bytes[headerSize..];
        int n = (int)count;
        switch (type)
        {
            case 0x08:
                return Tensor.FromSpan<byte>(data, dims);
            case 0x09:
                return Tensor.FromSpan<sbyte>(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(data), dims);
            case 0x0B:
                {
                    var v = new int[n];
                    for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadInt16BigEndian(data.Slice(2 * i));
                    return Tensor.Wrap(v, dims);
                }
            case 0x0C:
                {
                    var v = new int[n];
                    for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadInt32BigEndian(data.Slice(4 * i));
                    return Tensor.Wrap(v, dims);
                }
            case 0x0D:
                {
                    var v = new float[n];
                    for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadSingleBigEndian(data.Slice(4 * i));
                    return Tensor.Wrap(v, dims);
                }
            default:
                {
                    var v = new double[n];
                    for (int i = 0; i < n; i++) v[i] = BinaryPrimitives.ReadDoubleBigEndian(data.Slice(8 * i));
                    return Tensor.Wrap(v, dims);
                }
        }
    }
}
