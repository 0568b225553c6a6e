using System.Text.Json;

namespace Loom.Tests.OpInfo;

/// <summary>A sample's arguments as make_op_golden.py recorded them (the same JSON was passed to PyTorch).</summary>
internal sealed class SampleArgs(JsonElement args)
{
    public bool Has(string name) => args.ValueKind == JsonValueKind.Object && args.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    private JsonElement Get(string name) =>
        Has(name) ? args.GetProperty(name) : throw new KeyNotFoundException($"sample has no argument '{name}' (args {args})");

    public int Int(string name) => Get(name).GetInt32();

    public int Int(string name, int fallback) => Has(name) ? Int(name) : fallback;

    public int? IntOrNull(string name) => Has(name) ? Int(name) : null;

    public long Long(string name, long fallback) => Has(name) ? Get(name).GetInt64() : fallback;

    /// <summary>A number; ±∞ and NaN come as the strings "Infinity", "-Infinity" and "NaN" (JSON has no such numbers).</summary>
    public double Double(string name)
    {
        var e = Get(name);
        return e.ValueKind == JsonValueKind.String ? double.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : e.GetDouble();
    }

    public double Double(string name, double fallback) => Has(name) ? Double(name) : fallback;

    public double? DoubleOrNull(string name) => Has(name) ? Double(name) : null;

    public bool Bool(string name, bool fallback = false) => Has(name) ? Get(name).GetBoolean() : fallback;

    public string String(string name) => Get(name).GetString()!;

    public string String(string name, string fallback) => Has(name) ? String(name) : fallback;

    public int[] Ints(string name) => [.. Get(name).EnumerateArray().Select(e => e.GetInt32())];

    public int[]? IntsOrNull(string name) => Has(name) ? Ints(name) : null;

    public double[] Doubles(string name) => [.. Get(name).EnumerateArray().Select(e => e.GetDouble())];

    /// <summary>A (height, width) pair given as [h, w] or as one number for both.</summary>
    public (int H, int W) Pair(string name)
    {
        var e = Get(name);
        return e.ValueKind == JsonValueKind.Array ? (e[0].GetInt32(), e[1].GetInt32()) : (e.GetInt32(), e.GetInt32());
    }

    public Reduction Reduction => String("reduction", "mean") switch
    {
        "none" => Loom.Reduction.None,
        "sum" => Loom.Reduction.Sum,
        _ => Loom.Reduction.Mean,
    };

    public DType DType(string name) => String(name) switch
    {
        "float32" => Loom.DType.Float32,
        "float64" => Loom.DType.Float64,
        "int64" => Loom.DType.Int64,
        "int32" => Loom.DType.Int32,
        var s => throw new ArgumentException($"unknown dtype '{s}'"),
    };

    public override string ToString() => args.ToString();
}
