using System.Runtime.InteropServices;
using System.Text;
using Xunit.Sdk;

namespace Loom.Nn.Tests.Serialization;

/// <summary>Builds raw safetensors bytes by hand and compares tensors bit for bit.</summary>
internal static class SafeTensorsTestHelpers
{
    /// <summary>A file made of the 8-byte length, <paramref name="headerJson"/> (space-padded to 8 bytes unless told not to) and <paramref name="data"/>.</summary>
    public static byte[] Build(string headerJson, byte[] data, bool pad = true)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        if (pad && header.Length % 8 != 0) header = [.. header, .. Enumerable.Repeat((byte)' ', 8 - header.Length % 8)];
        return Build(header, data, (ulong)header.Length);
    }

    /// <summary>A file whose length prefix says <paramref name="declaredLength"/>, whatever the header's real length.</summary>
    public static byte[] Build(byte[] header, byte[] data, ulong declaredLength)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declaredLength);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    public static byte[] Build(string headerJson, int dataLength) => Build(headerJson, new byte[dataLength]);

    public static SafeTensorsFile Read(byte[] file, bool seekable = true) =>
        SafeTensors.Read(seekable ? new MemoryStream(file, writable: false) : new NonSeekableStream(file));

    public static byte[] Write(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>The header text of a file (padding included).</summary>
    public static string HeaderText(byte[] file) => Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));

    /// <summary>The row-major bytes of a tensor's elements.</summary>
    public static byte[] Bytes(Tensor t) => t.DType switch
    {
        DType.Float32 => MemoryMarshal.AsBytes<float>(t.ToArray<float>()).ToArray(),
        DType.Float64 => MemoryMarshal.AsBytes<double>(t.ToArray<double>()).ToArray(),
        DType.Int32 => MemoryMarshal.AsBytes<int>(t.ToArray<int>()).ToArray(),
        DType.Int64 => MemoryMarshal.AsBytes<long>(t.ToArray<long>()).ToArray(),
        DType.UInt8 => t.ToArray<byte>(),
        DType.Int8 => MemoryMarshal.AsBytes<sbyte>(t.ToArray<sbyte>()).ToArray(),
        DType.Bool => MemoryMarshal.AsBytes<bool>(t.ToArray<bool>()).ToArray(),
        _ => throw new NotSupportedException(t.DType.ToString()),
    };

    /// <summary>Same dtype, same shape and bit-identical elements (so NaN payloads and the sign of zero count).</summary>
    public static void AssertIdentical(Tensor expected, Tensor actual, string name = "")
    {
        if (expected.DType != actual.DType) throw new XunitException($"{name}: dtype {actual.DType}, expected {expected.DType}");
        if (expected.Shape != actual.Shape) throw new XunitException($"{name}: shape {actual.Shape}, expected {expected.Shape}");
        var e = Bytes(expected);
        var a = Bytes(actual);
        int at = e.AsSpan().CommonPrefixLength(a);
        if (at != e.Length || e.Length != a.Length)
            throw new XunitException($"{name}: elements differ from byte {at} on (of {e.Length})");
    }

    public static void AssertIdentical(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in expected) AssertIdentical(tensor, actual[name], name);
    }
}

/// <summary>A read-only stream that cannot seek, like a network or pipe stream, and returns data in small pieces.</summary>
internal sealed class NonSeekableStream(byte[] data) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Short reads (at most 1000 bytes) exercise the reader's loops as a socket would.
        int n = Math.Min(Math.Min(buffer.Length, 1000), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
