namespace Loom;

/// <summary>Element type of a <see cref="Tensor"/>. Float32 is the fast path; Float64 exists for gradient checks.</summary>
public enum DType
{
    Float32,
    Float64,
    Int32,
    Int64,
    UInt8,
    Int8,
    /// <summary>Booleans stored one per byte (0 or 1), the result of comparisons and the type of masks.</summary>
    Bool,
}

/// <summary>Facts about each <see cref="DType"/>.</summary>
public static class DTypeInfo
{
    public static int SizeInBytes(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.UInt8 or DType.Int8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>Lower-case name as PyTorch prints it (float32, int64, bool…).</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        DType.UInt8 => "uint8",
        DType.Int8 => "int8",
        DType.Bool => "bool",
        _ => dtype.ToString(),
    };

    /// <summary>The dtype whose elements are stored as the CLR type <typeparamref name="T"/> (bool maps to Bool).</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(int)) return DType.Int32;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(byte)) return DType.UInt8;
        if (typeof(T) == typeof(sbyte)) return DType.Int8;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        throw new NotSupportedException($"no Loom dtype stores elements of CLR type {typeof(T).Name}");
    }

    /// <summary>The CLR element type used in storage. Bool is stored as <see cref="bool"/>.</summary>
    public static Type ClrType(this DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Int32 => typeof(int),
        DType.Int64 => typeof(long),
        DType.UInt8 => typeof(byte),
        DType.Int8 => typeof(sbyte),
        DType.Bool => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Type promotion for binary ops, as PyTorch does for tensors of equal category: float beats int, wider beats narrower.</summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        if (a == DType.Float64 || b == DType.Float64) return DType.Float64;
        if (a == DType.Float32 || b == DType.Float32) return DType.Float32;
        if (a == DType.Int64 || b == DType.Int64) return DType.Int64;
        if (a == DType.Int32 || b == DType.Int32) return DType.Int32;
        if (a == DType.Bool) return b;
        if (b == DType.Bool) return a;
        return DType.Int32; // UInt8 with Int8: PyTorch gives int16, which Loom does not have
    }
}
