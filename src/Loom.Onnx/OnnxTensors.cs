using System.Runtime.InteropServices;

namespace Loom.Onnx;

/// <summary>
/// TensorProto ↔ Tensor. Reading checks every declared dimension and that the data present matches the declared
/// element count before anything is allocated, so a hostile file cannot ask for more memory than its own size.
/// </summary>
internal static class OnnxTensors
{
    /// <summary>The largest tensor a graph may ask Loom to create from a shape it computes (Expand, ConstantOfShape…): 2^28 elements, 1 GiB of float.</summary>
    public const long MaxComputedElements = 1L << 28;

    public static Tensor ToTensor(TensorProto proto, string what)
    {
        var dtype = OnnxDataType.ToDType(proto.DataType, what);
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            throw new OnnxException($"{what}: external data files are not supported (save the model with its weights inside)");
        if (proto.Segment is not null)
            throw new OnnxException($"{what}: segmented tensors are not supported");
        var dims = CheckedDims(proto.Dims, what, long.MaxValue);
        long numel = 1;
        foreach (var d in dims) numel *= d; // CheckedDims bounded the product
        var shape = new Shape(dims);
        int size = dtype.SizeInBytes();

        if (!proto.RawData.IsEmpty)
        {
            var raw = proto.RawData.Span;
            if (raw.Length != numel * size)
                throw new OnnxException($"{what}: raw_data holds {raw.Length} bytes but shape {shape} of {OnnxDataType.Name(proto.DataType)} needs {numel * size}");
            return dtype switch
            {
                DType.Float32 => Tensor.FromSpan(MemoryMarshal.Cast<byte, float>(raw), dims),
                DType.Float64 => Tensor.FromSpan(MemoryMarshal.Cast<byte, double>(raw), dims),
                DType.Int32 => Tensor.FromSpan(MemoryMarshal.Cast<byte, int>(raw), dims),
                DType.Int64 => Tensor.FromSpan(MemoryMarshal.Cast<byte, long>(raw), dims),
                DType.UInt8 => Tensor.FromSpan(raw, dims),
                DType.Int8 => Tensor.FromSpan(MemoryMarshal.Cast<byte, sbyte>(raw), dims),
                DType.Bool => Tensor.FromSpan(MemoryMarshal.Cast<byte, bool>(NormalizedBools(raw)), dims),
                _ => throw new OnnxException($"{what}: dtype {dtype.Name()} cannot be read"),
            };
        }

        long count = dtype switch
        {
            DType.Float32 => proto.FloatData.Count,
            DType.Float64 => proto.DoubleData.Count,
            DType.Int64 => proto.Int64Data.Count,
            _ => proto.Int32Data.Count,
        };
        if (count != numel)
            throw new OnnxException($"{what}: holds {count} values but shape {shape} needs {numel}");
        return dtype switch
        {
            DType.Float32 => Tensor.FromSpan<float>(proto.FloatData.ToArray(), dims),
            DType.Float64 => Tensor.FromSpan<double>(proto.DoubleData.ToArray(), dims),
            DType.Int64 => Tensor.FromSpan<long>(proto.Int64Data.ToArray(), dims),
            DType.Int32 => Tensor.FromSpan<int>(proto.Int32Data.ToArray(), dims),
            DType.UInt8 => Tensor.FromSpan(proto.Int32Data.Select(v => (byte)v).ToArray(), dims),
            DType.Int8 => Tensor.FromSpan(proto.Int32Data.Select(v => (sbyte)v).ToArray(), dims),
            DType.Bool => Tensor.FromSpan(proto.Int32Data.Select(v => v != 0).ToArray(), dims),
            _ => throw new OnnxException($"{what}: dtype {dtype.Name()} cannot be read"),
        };
    }

    // A bool byte other than 0 or 1 is undefined behaviour in .NET; the file does not get to choose.
    private static byte[] NormalizedBools(ReadOnlySpan<byte> raw)
    {
        var bytes = new byte[raw.Length];
        for (int i = 0; i < raw.Length; i++) bytes[i] = raw[i] != 0 ? (byte)1 : (byte)0;
        return bytes;
    }

    /// <summary>Dimensions as ints, each in [0, 2^31) and with a product of at most <paramref name="maxElements"/> (and 2^31 − 1).</summary>
    public static int[] CheckedDims(IReadOnlyList<long> dims, string what, long maxElements)
    {
        if (dims.Count > 16) throw new OnnxException($"{what}: rank {dims.Count} is more than Loom supports (16)");
        var result = new int[dims.Count];
        long numel = 1;
        for (int i = 0; i < dims.Count; i++)
        {
            long d = dims[i];
            if (d < 0 || d > int.MaxValue)
                throw new OnnxException($"{what}: dimension {i} is {d}, outside [0, {int.MaxValue}]");
            result[i] = (int)d;
            numel = d == 0 ? 0 : numel > long.MaxValue / d ? long.MaxValue : numel * d;
        }
        long limit = Math.Min(maxElements, int.MaxValue);
        if (numel > limit)
            throw new OnnxException($"{what}: shape [{string.Join(", ", dims)}] has {numel} elements, more than the limit of {limit}");
        return result;
    }

    /// <summary>A tensor as a TensorProto with raw_data (little-endian, as ONNX requires and as this machine stores it).</summary>
    public static TensorProto ToProto(Tensor tensor, string name)
    {
        var t = tensor.Detach().Contiguous();
        var proto = new TensorProto { Name = name, DataType = OnnxDataType.FromDType(t.DType) };
        foreach (var d in t.Shape.Dims) proto.Dims.Add(d);
        proto.RawData = t.DType switch
        {
            DType.Float32 => ByteString.CopyFrom(MemoryMarshal.AsBytes(t.ToArray<float>().AsSpan())),
            DType.Float64 => ByteString.CopyFrom(MemoryMarshal.AsBytes(t.ToArray<double>().AsSpan())),
            DType.Int32 => ByteString.CopyFrom(MemoryMarshal.AsBytes(t.ToArray<int>().AsSpan())),
            DType.Int64 => ByteString.CopyFrom(MemoryMarshal.AsBytes(t.ToArray<long>().AsSpan())),
            DType.UInt8 => ByteString.CopyFrom(t.ToArray<byte>()),
            DType.Int8 => ByteString.CopyFrom(MemoryMarshal.AsBytes(t.ToArray<sbyte>().AsSpan())),
            DType.Bool => ByteString.CopyFrom(MemoryMarshal.AsBytes(t.ToArray<bool>().AsSpan())),
            _ => throw new OnnxException($"tensor '{name}': dtype {t.DType.Name()} has no ONNX equivalent"),
        };
        return proto;
    }

    /// <summary>The values of an integer tensor (a shape, axes, indices…) as longs.</summary>
    public static long[] Longs(Tensor t, string what)
    {
        if (t.DType.IsFloatingPoint() || t.DType == DType.Bool)
            throw new OnnxException($"{what}: expected an integer tensor, got {t.DType.Name()}");
        if (t.Rank > 1) throw new OnnxException($"{what}: expected a 0-D or 1-D tensor, got shape {t.Shape}");
        return t.To(DType.Int64).Contiguous().ToArray<long>();
    }
}
