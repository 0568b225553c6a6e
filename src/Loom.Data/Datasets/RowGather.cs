namespace Loom.Data;

/// <summary>Copies rows of a contiguous tensor into a new tensor: out[k] = source[indices[k]].</summary>
internal static class RowGather
{
    public static Tensor Rows(Tensor source, ReadOnlySpan<int> indices, string op)
    {
        var dims = source.Shape.ToArray();
        int n = dims[0];
        foreach (int i in indices)
            if ((uint)i >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"{op}: index {i} is out of range for {n} rows (shape {source.Shape})");
        dims[0] = indices.Length;
        var result = Tensor.Zeros(new Shape(dims), source.DType);
        switch (source.DType)
        {
            case DType.Float32: Copy<float>(source, indices, result); break;
            case DType.Float64: Copy<double>(source, indices, result); break;
            case DType.Int32: Copy<int>(source, indices, result); break;
            case DType.Int64: Copy<long>(source, indices, result); break;
            case DType.UInt8: Copy<byte>(source, indices, result); break;
            case DType.Int8: Copy<sbyte>(source, indices, result); break;
            case DType.Bool: Copy<bool>(source, indices, result); break;
            default: throw new NotSupportedException($"{op}: dtype {source.DType.Name()} is not supported");
        }
        return result;
    }

    private static void Copy<T>(Tensor source, ReadOnlySpan<int> indices, Tensor destination) where T : unmanaged
    {
        var src = source.Contiguous().AsReadOnlySpan<T>();
        var dst = destination.AsSpan<T>();
        int row = source.Shape[0] == 0 ? 0 : src.Length / source.Shape[0];
        for (int k = 0; k < indices.Length; k++)
            src.Slice(indices[k] * row, row).CopyTo(dst.Slice(k * row, row));
    }
}
