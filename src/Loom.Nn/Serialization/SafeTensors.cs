using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Loom.Nn.Serialization;

// The safetensors format (Hugging Face), which Loom uses for checkpoints:
//   [8 bytes] N, the header length, unsigned little-endian
//   [N bytes] UTF-8 JSON: {"__metadata__": {string: string}, name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …}
//             padded with spaces so that the data starts 8-byte aligned
//   [data]    every tensor's elements, row-major and little-endian, packed back to back; offsets are relative to the
//             first data byte, end exclusive, and together cover the data exactly
// Loom writes the bytes the reference (Rust/Python) implementation writes for the same tensors: tensors sorted by dtype
// in its enum order, widest first, then by name (UTF-8 byte order); compact JSON with serde_json's escaping; metadata
// first. Files therefore load in Python with safetensors.numpy/torch, and Python files load here.

/// <summary>Reads and writes tensors in the safetensors format (see the comment at the top of this file).</summary>
public static partial class SafeTensors
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (and optional string <paramref name="metadata"/>) to <paramref name="path"/>
    /// atomically (see <see cref="AtomicFile"/>): a failure never leaves a partial file under that name.
    /// </summary>
    /// <remarks>Strided and broadcast tensors are written as their row-major contents; metadata is omitted when null or empty.</remarks>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        // Plan first, so invalid arguments throw before any file is created.
        var plan = Plan(tensors, metadata);
        AtomicFile.Write(path, stream => WritePlan(stream, plan));
    }

    /// <summary>Writes <paramref name="tensors"/> in the safetensors format to <paramref name="stream"/>, from its current position.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WritePlan(stream, Plan(tensors, metadata));
    }

    /// <summary>The header bytes (length prefix excluded, padding included) and the tensors in data order.</summary>
    private sealed record WritePlanData(byte[] Header, List<Tensor> Tensors);

    private static WritePlanData Plan(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<(byte[] Name, string Text, SafeTensorsDType DType, Tensor Tensor)>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (name is null) throw new ArgumentException("SafeTensors.Write: a tensor name is null", nameof(tensors));
            if (name == "__metadata__") throw new ArgumentException("SafeTensors.Write: the name '__metadata__' is reserved for the metadata", nameof(tensors));
            if (tensor is null) throw new ArgumentException($"SafeTensors.Write: tensor '{name}' is null", nameof(tensors));
            entries.Add((Utf8Of(name, "tensor name"), name, SafeTensorsDTypes.FromLoom(tensor.DType), tensor));
        }
        entries.Sort((a, b) => a.DType != b.DType ? b.DType.CompareTo(a.DType) : a.Name.AsSpan().SequenceCompareTo(b.Name));

        var json = new ArrayBufferWriter<byte>(64 + 96 * entries.Count);
        json.Write("{"u8);
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            json.Write("\"__metadata__\":{"u8);
            var pairs = new List<(byte[] Key, byte[] Value)>(metadata.Count);
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null) throw new ArgumentException("SafeTensors.Write: metadata keys and values must not be null", nameof(metadata));
                pairs.Add((Utf8Of(key, "metadata key"), Utf8Of(value, "metadata value")));
            }
            // The reference writer keeps metadata in a hash map (unspecified order); sorting keeps Loom's files reproducible.
            pairs.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            for (int i = 0; i < pairs.Count; i++)
            {
                if (i > 0) json.Write(","u8);
                WriteJsonString(json, pairs[i].Key);
                json.Write(":"u8);
                WriteJsonString(json, pairs[i].Value);
            }
            json.Write("}"u8);
            first = false;
        }
        long offset = 0;
        foreach (var e in entries)
        {
            if (!first) json.Write(","u8);
            first = false;
            long bytes = (long)e.Tensor.Numel * e.DType.SizeInBytes();
            WriteJsonString(json, e.Name);
            json.Write(":{\"dtype\":\""u8);
            json.Write(Encoding.ASCII.GetBytes(e.DType.Code()));
            json.Write("\",\"shape\":["u8);
            for (int d = 0; d < e.Tensor.Rank; d++)
            {
                if (d > 0) json.Write(","u8);
                WriteJsonInteger(json, e.Tensor.Shape[d]);
            }
            json.Write("],\"data_offsets\":["u8);
            WriteJsonInteger(json, offset);
            json.Write(","u8);
            WriteJsonInteger(json, offset + bytes);
            json.Write("]}"u8);
            offset += bytes;
        }
        json.Write("}"u8);

        // Pad with spaces (valid JSON whitespace) so the data section starts 8-byte aligned, as the reference writer does.
        int padded = (json.WrittenCount + 7) / 8 * 8;
        if (padded > SafeTensorsHeader.MaxLength)
            throw new ArgumentException($"SafeTensors.Write: the header would be {padded} bytes, above the {SafeTensorsHeader.MaxLength}-byte limit readers accept", nameof(tensors));
        var header = new byte[padded];
        json.WrittenSpan.CopyTo(header);
        header.AsSpan(json.WrittenCount).Fill((byte)' ');
        return new WritePlanData(header, entries.ConvertAll(e => e.Tensor));
    }

    private static void WritePlan(Stream stream, WritePlanData plan)
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)plan.Header.Length);
        stream.Write(length);
        stream.Write(plan.Header);
        foreach (var tensor in plan.Tensors)
        {
            // Detach: copying a strided tensor to row-major order must not be recorded by autograd.
            var t = tensor.Detach().Contiguous();
            switch (t.DType)
            {
                case DType.Float32: WriteElements<float>(stream, t.AsReadOnlySpan<float>()); break;
                case DType.Float64: WriteElements<double>(stream, t.AsReadOnlySpan<double>()); break;
                case DType.Int32: WriteElements<int>(stream, t.AsReadOnlySpan<int>()); break;
                case DType.Int64: WriteElements<long>(stream, t.AsReadOnlySpan<long>()); break;
                case DType.UInt8: WriteElements<byte>(stream, t.AsReadOnlySpan<byte>()); break;
                case DType.Int8: WriteElements<sbyte>(stream, t.AsReadOnlySpan<sbyte>()); break;
                case DType.Bool: WriteElements<bool>(stream, t.AsReadOnlySpan<bool>()); break; // .NET stores bool as one byte, 0 or 1, as the format does
                default: throw new ArgumentException($"SafeTensors.Write: dtype {t.DType.Name()} cannot be written");
            }
        }
    }

    /// <summary>Largest slice handed to one stream call: keeps byte counts far from int overflow for huge tensors.</summary>
    private const int MaxChunkBytes = 1 << 30;

    /// <summary>Scratch size for byte swapping and half-precision conversion.</summary>
    private const int ScratchBytes = 1 << 20;

    private static void WriteElements<T>(Stream stream, ReadOnlySpan<T> values) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (BitConverter.IsLittleEndian || size == 1)
        {
            int chunk = MaxChunkBytes / size;
            for (int i = 0; i < values.Length; i += chunk)
                stream.Write(MemoryMarshal.AsBytes(values.Slice(i, Math.Min(chunk, values.Length - i))));
            return;
        }
        // A big-endian host swaps each element into little-endian order in a scratch buffer before writing.
        var scratch = ArrayPool<byte>.Shared.Rent(ScratchBytes);
        try
        {
            int chunk = ScratchBytes / size;
            for (int i = 0; i < values.Length; i += chunk)
            {
                var bytes = MemoryMarshal.AsBytes(values.Slice(i, Math.Min(chunk, values.Length - i)));
                var swapped = scratch.AsSpan(0, bytes.Length);
                bytes.CopyTo(swapped);
                ReverseEndianness(swapped, size);
                stream.Write(swapped);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Reverses the bytes of each <paramref name="elementSize"/>-byte element, in place.</summary>
    private static void ReverseEndianness(Span<byte> bytes, int elementSize)
    {
        switch (elementSize)
        {
            case 2: { var s = MemoryMarshal.Cast<byte, ushort>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 4: { var s = MemoryMarshal.Cast<byte, uint>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 8: { var s = MemoryMarshal.Cast<byte, ulong>(bytes); BinaryPrimitives.ReverseEndianness(s, s); break; }
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static byte[] Utf8Of(string text, string what)
    {
        try
        {
            return StrictUtf8.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"SafeTensors.Write: {what} '{text}' is not valid Unicode (it holds a lone surrogate)", e);
        }
    }

    /// <summary>
    /// A JSON string escaped as serde_json (the reference writer) and Python's json module escape: quote, backslash and
    /// control characters only, with \b \f \n \r \t short forms and lower-case \u00xx; everything else as raw UTF-8.
    /// </summary>
    private static void WriteJsonString(ArrayBufferWriter<byte> json, ReadOnlySpan<byte> utf8)
    {
        json.Write("\""u8);
        int start = 0;
        for (int i = 0; i < utf8.Length; i++)
        {
            byte b = utf8[i];
            if (b >= 0x20 && b != (byte)'"' && b != (byte)'\\') continue;
            json.Write(utf8[start..i]);
            start = i + 1;
            switch (b)
            {
                case (byte)'"': json.Write("\\\""u8); break;
                case (byte)'\\': json.Write("\\\\"u8); break;
                case (byte)'\b': json.Write("\\b"u8); break;
                case (byte)'\f': json.Write("\\f"u8); break;
                case (byte)'\n': json.Write("\\n"u8); break;
                case (byte)'\r': json.Write("\\r"u8); break;
                case (byte)'\t': json.Write("\\t"u8); break;
                default:
                    ReadOnlySpan<byte> hex = "0123456789abcdef"u8;
                    json.Write([(byte)'\\', (byte)'u', (byte)'0', (byte)'0', hex[b >> 4], hex[b & 0xF]]);
                    break;
            }
        }
        json.Write(utf8[start..]);
        json.Write("\""u8);
    }

    private static void WriteJsonInteger(ArrayBufferWriter<byte> json, long value)
    {
        var span = json.GetSpan(20);
        value.TryFormat(span, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        json.Advance(written);
    }
}
