namespace Loom.Nn.Serialization;

/// <summary>
/// The element types a safetensors file can hold that Loom reads. The numeric values keep the relative order of the
/// reference implementation's <c>Dtype</c> enum (increasing alignment: BOOL, U8, I8, …, F16, BF16, I32, F32, F64, I64):
/// its writer sorts tensors by that order, descending, so Loom sorts by these values to write the same bytes.
/// </summary>
internal enum SafeTensorsDType
{
    BOOL,
    U8,
    I8,
    F16,
    BF16,
    I32,
    F32,
    F64,
    I64,
}

internal static class SafeTensorsDTypes
{
    /// <summary>Codes of the format that Loom recognises but cannot hold: a clearer error than "unknown".</summary>
    private static readonly HashSet<string> Unsupported =
        ["I16", "U16", "U32", "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F4", "F6_E2M3", "F6_E3M2", "C64"];

    public static int SizeInBytes(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.BOOL or SafeTensorsDType.U8 or SafeTensorsDType.I8 => 1,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.I32 or SafeTensorsDType.F32 => 4,
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The code written in the header ("F32", "BOOL"…).</summary>
    public static string Code(this SafeTensorsDType dtype) => dtype.ToString();

    /// <summary>Parses a header code; null for a code Loom cannot read, with <paramref name="known"/> telling whether the format defines it.</summary>
    public static SafeTensorsDType? Parse(string code, out bool known)
    {
        known = true;
        switch (code)
        {
            case "BOOL": return SafeTensorsDType.BOOL;
            case "U8": return SafeTensorsDType.U8;
            case "I8": return SafeTensorsDType.I8;
            case "F16": return SafeTensorsDType.F16;
            case "BF16": return SafeTensorsDType.BF16;
            case "I32": return SafeTensorsDType.I32;
            case "F32": return SafeTensorsDType.F32;
            case "F64": return SafeTensorsDType.F64;
            case "I64": return SafeTensorsDType.I64;
            default:
                known = Unsupported.Contains(code);
                return null;
        }
    }

    /// <summary>The format's dtype for a Loom dtype (every Loom dtype has one).</summary>
    public static SafeTensorsDType FromLoom(DType dtype) => dtype switch
    {
        DType.Float32 => SafeTensorsDType.F32,
        DType.Float64 => SafeTensorsDType.F64,
        DType.Int32 => SafeTensorsDType.I32,
        DType.Int64 => SafeTensorsDType.I64,
        DType.UInt8 => SafeTensorsDType.U8,
        DType.Int8 => SafeTensorsDType.I8,
        DType.Bool => SafeTensorsDType.BOOL,
        _ => throw new ArgumentException($"safetensors: dtype {dtype.Name()} has no safetensors equivalent"),
    };

    /// <summary>The Loom dtype a tensor stored as <paramref name="dtype"/> loads as: half-precision types widen to Float32.</summary>
    public static DType ToLoom(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => DType.Float32,
        SafeTensorsDType.F64 => DType.Float64,
        SafeTensorsDType.I32 => DType.Int32,
        SafeTensorsDType.I64 => DType.Int64,
        SafeTensorsDType.U8 => DType.UInt8,
        SafeTensorsDType.I8 => DType.Int8,
        SafeTensorsDType.BOOL => DType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
