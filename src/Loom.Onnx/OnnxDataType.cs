namespace Loom.Onnx;

/// <summary>
/// TensorProto.DataType codes (onnx.proto) and their Loom dtypes. Loom has no float16, strings or unsigned types wider
/// than a byte, so those are rejected by name rather than misread.
/// </summary>
internal static class OnnxDataType
{
    public const int Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
        Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16;

    public static DType ToDType(int code, string what) => code switch
    {
        Float => DType.Float32,
        Double => DType.Float64,
        Int32 => DType.Int32,
        Int64 => DType.Int64,
        UInt8 => DType.UInt8,
        Int8 => DType.Int8,
        Bool => DType.Bool,
        _ => throw new OnnxException($"{what}: ONNX data type {Name(code)} is not supported (float, double, int8/32/64, uint8 and bool are)"),
    };

    public static int FromDType(DType dtype) => dtype switch
    {
        DType.Float32 => Float,
        DType.Float64 => Double,
        DType.Int32 => Int32,
        DType.Int64 => Int64,
        DType.UInt8 => UInt8,
        DType.Int8 => Int8,
        DType.Bool => Bool,
        _ => throw new OnnxException($"dtype {dtype.Name()} has no ONNX equivalent"),
    };

    public static string Name(int code) => code switch
    {
        Float => "float",
        UInt8 => "uint8",
        Int8 => "int8",
        UInt16 => "uint16",
        Int16 => "int16",
        Int32 => "int32",
        Int64 => "int64",
        String => "string",
        Bool => "bool",
        Float16 => "float16",
        Double => "double",
        UInt32 => "uint32",
        UInt64 => "uint64",
        BFloat16 => "bfloat16",
        _ => $"code {code}",
    };
}
