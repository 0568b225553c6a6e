using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Loom.Testing;

/// <summary>
/// The tensors and metadata of a golden file that a checked-in PyTorch script wrote in the safetensors format
/// (tests/golden/*.py). A reader of the few dtypes those scripts write, so that test projects below Loom.Nn (whose
/// <c>SafeTensors</c> is the real, validating reader) can load goldens too.
/// </summary>
public sealed class GoldenTensors
{
    private GoldenTensors(Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public Tensor this[string name] =>
        Tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"golden file has no tensor '{name}'");

    public static GoldenTensors Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var data = bytes.AsSpan(checked(8 + (int)headerLength));
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var raw = data[offsets[0]..offsets[1]];
            tensors[entry.Name] = entry.Value.GetProperty("dtype").GetString() switch
            {
                "F32" => Tensor.FromSpan(MemoryMarshal.Cast<byte, float>(raw), shape),
                "F64" => Tensor.FromSpan(MemoryMarshal.Cast<byte, double>(raw), shape),
                "I32" => Tensor.FromSpan(MemoryMarshal.Cast<byte, int>(raw), shape),
                "I64" => Tensor.FromSpan(MemoryMarshal.Cast<byte, long>(raw), shape),
                "U8" => Tensor.FromSpan<byte>(raw, shape),
                "BOOL" => Tensor.FromSpan(MemoryMarshal.Cast<byte, bool>(raw), shape),
                var other => throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype {other}, which golden files do not use"),
            };
        }
        return new GoldenTensors(tensors, metadata);
    }
}
