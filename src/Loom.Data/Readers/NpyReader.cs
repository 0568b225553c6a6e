using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Loom.Data;

/// <summary>
/// Reads NumPy <c>.npy</c> files (format versions 1, 2 and 3) into tensors.
/// </summary>
/// <remarks>
/// Layout: magic <c>\x93NUMPY</c>, major and minor version bytes, the header length (uint16 little-endian in v1, uint32 in
/// v2/v3), then a Python dict literal such as <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>
/// (ASCII in v1/v2, UTF-8 in v3), then the raw elements. Supported descr: f4, f8, i4, i8, u1, i1, b1, little- or
/// big-endian (big-endian data is byte-swapped). A file in Fortran (column-major) order is read and transposed into
/// Loom's row-major layout. The element count the shape declares must match the bytes present exactly.
/// </remarks>
public static class NpyReader
{
    // Not a u8 string literal: "\x93" there would be U+0093 encoded as two UTF-8 bytes.
    internal static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads from a stream; <paramref name="name"/> names the source in error messages.</summary>
    public static Tensor Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var persistent = Memory.MemoryScope.Persistent(); // file data outlives any training step
        var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), name);
    }

    private static Tensor Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy file (it does not start with the magic \\x93NUMPY)");
        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
                headerStart = 10;
                break;
            case 2 or 3:
                if (bytes.Length < 12) throw new InvalidDataException($"{name}: truncated .npy preamble");
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                if (len > int.MaxValue) throw new InvalidDataException($"{name}: header length {len} is too large");
                headerLength = (int)len;
                headerStart = 12;
                break;
            default:
                throw new InvalidDataException($"{name}: unsupported .npy format version {major}.{bytes[7]} (supported: 1.0, 2.0, 3.0)");
        }
        if ((long)headerStart + headerLength > bytes.Length)
            throw new InvalidDataException($"{name}: truncated: the header needs {headerLength} bytes after the preamble, the file has {bytes.Length - headerStart}");
        var headerBytes = bytes.Slice(headerStart, headerLength);
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(header, name);
        var (dtype, bigEndian) = ParseDescr(descr, name);

        long count = 1;
        foreach (int d in shape) count = Math.Min(count * d, long.MaxValue / 16);
        int size = dtype.SizeInBytes();
        var data = bytes[(headerStart + headerLength)..];
        if (data.Length != count * size)
            throw new InvalidDataException(
                $"{name}: shape {new Shape(shape)} of '{descr}' needs {count * size} data bytes but the file has {data.Length}" +
                (data.Length < count * size ? " (truncated)" : " (trailing bytes)"));

        // Fortran order stores the transpose of the row-major layout: read it as the reversed shape, then permute back.
        var storedShape = fortran ? shape.Reverse().ToArray() : shape;
        var tensor = dtype switch
        {
            DType.Float32 => Load<float>(data, storedShape, bigEndian),
            DType.Float64 => Load<double>(data, storedShape, bigEndian),
            DType.Int32 => Load<int>(data, storedShape, bigEndian),
            DType.Int64 => Load<long>(data, storedShape, bigEndian),
            DType.UInt8 => Load<byte>(data, storedShape, false),
            DType.Int8 => Load<sbyte>(data, storedShape, false),
            _ => LoadBool(data, storedShape, name),
        };
        if (fortran && shape.Length > 1)
            tensor = tensor.Permute(Enumerable.Range(0, shape.Length).Reverse().ToArray()).Contiguous();
        return tensor;
    }

    private static Tensor Load<T>(ReadOnlySpan<byte> data, int[] shape, bool bigEndian) where T : unmanaged
    {
        var values = MemoryMarshal.Cast<byte, T>(data).ToArray();
        if (bigEndian)
        {
            var raw = MemoryMarshal.AsBytes(values.AsSpan());
            int size = Marshal.SizeOf<T>();
            for (int i = 0; i < raw.Length; i += size) raw.Slice(i, size).Reverse();
        }
        return Tensor.Wrap(values, shape.Length == 0 ? [1] : shape).Reshape(shape);
    }

    private static Tensor LoadBool(ReadOnlySpan<byte> data, int[] shape, string name)
    {
        var values = new bool[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] > 1) throw new InvalidDataException($"{name}: bool element {i} has byte value {data[i]}, not 0 or 1");
            values[i] = data[i] == 1;
        }
        return Tensor.Wrap(values, shape.Length == 0 ? [1] : shape).Reshape(shape);
    }

    private static (DType DType, bool BigEndian) ParseDescr(string descr, string name)
    {
        if (descr.Length == 3 && descr[0] is '<' or '>' or '|' or '=')
        {
            bool big = descr[0] == '>';
            var dtype = descr[1..] switch
            {
                "f4" => DType.Float32,
                "f8" => DType.Float64,
                "i4" => DType.Int32,
                "i8" => DType.Int64,
                "u1" => DType.UInt8,
                "i1" => DType.Int8,
                "b1" => DType.Bool,
                _ => (DType?)null,
            };
            if (dtype is { } d) return (d, big && d.SizeInBytes() > 1);
        }
        throw new InvalidDataException($"{name}: unsupported dtype descr '{descr}' (supported: f4, f8, i4, i8, u1, i1, b1 with <, > or |)");
    }

    /// <summary>Parses the header dict: string keys; values a quoted string, True/False or a tuple of integers.</summary>
    private static (string Descr, bool Fortran, int[] Shape) ParseHeader(string header, string name)
    {
        var p = new HeaderParser(header, name);
        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        p.Expect('{');
        while (!p.TryConsume('}'))
        {
            string key = p.ReadString();
            p.Expect(':');
            switch (key)
            {
                case "descr": descr = p.ReadString(); break;
                case "fortran_order": fortran = p.ReadBool(); break;
                case "shape": shape = p.ReadIntTuple(); break;
                default: throw p.Error($"unexpected key '{key}'");
            }
            if (!p.TryConsume(',')) { p.Expect('}'); break; }
        }
        if (descr is null || fortran is null || shape is null)
            throw new InvalidDataException($"{name}: the header must give 'descr', 'fortran_order' and 'shape': {header.Trim()}");
        return (descr, fortran.Value, shape);
    }

    private ref struct HeaderParser(string text, string name)
    {
        private int _pos;

        public InvalidDataException Error(string what) => new($"{name}: malformed .npy header at character {_pos}: {what} in {text.Trim()}");

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        public bool TryConsume(char c)
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        public void Expect(char c)
        {
            if (!TryConsume(c)) throw Error($"expected '{c}'");
        }

        public string ReadString()
        {
            SkipSpace();
            if (_pos >= text.Length || text[_pos] is not ('\'' or '"')) throw Error("expected a quoted string");
            char quote = text[_pos++];
            int end = text.IndexOf(quote, _pos);
            if (end < 0) throw Error("unterminated string");
            var s = text[_pos..end];
            _pos = end + 1;
            return s;
        }

        public bool ReadBool()
        {
            SkipSpace();
            if (string.CompareOrdinal(text, _pos, "True", 0, 4) == 0) { _pos += 4; return true; }
            if (string.CompareOrdinal(text, _pos, "False", 0, 5) == 0) { _pos += 5; return false; }
            throw Error("expected True or False");
        }

        public int[] ReadIntTuple()
        {
            Expect('(');
            var dims = new List<int>();
            while (!TryConsume(')'))
            {
                SkipSpace();
                int start = _pos;
                while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
                // Python 2 wrote long dimensions as 3L.
                if (!int.TryParse(text.AsSpan(start, _pos - start), out int d)) throw Error("expected a non-negative dimension that fits in int32");
                if (_pos < text.Length && text[_pos] == 'L') _pos++;
                dims.Add(d);
                if (!TryConsume(',')) { Expect(')'); break; }
            }
            return [.. dims];
        }
    }
}
