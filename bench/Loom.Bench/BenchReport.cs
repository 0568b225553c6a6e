using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Bench;

/// <summary>Collects results as JSON records ({"benchmark", "case", metrics…}) and prints each as it arrives.</summary>
public sealed class BenchReport
{
    private readonly JsonArray _results = [];
    private readonly TextWriter _log;

    public BenchReport(TextWriter log) => _log = log;

    public JsonArray Results => _results;

    /// <summary>Adds one result; <paramref name="metrics"/> values are numbers or strings.</summary>
    public void Add(string benchmark, string @case, params (string Key, object Value)[] metrics)
    {
        var record = new JsonObject { ["benchmark"] = benchmark, ["case"] = @case };
        var line = $"{benchmark,-14} {@case,-34}";
        foreach (var (key, value) in metrics)
        {
            record[key] = JsonValue.Create(value);
            line += value is double d ? $"  {key} {d,10:G4}" : $"  {key} {value}";
        }
        _results.Add(record);
        _log.WriteLine(line);
    }

    /// <summary>The whole report with machine information, as indented JSON.</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["machine"] = new JsonObject
            {
                ["processors"] = Environment.ProcessorCount,
                ["os"] = Environment.OSVersion.ToString(),
                ["runtime"] = Environment.Version.ToString(),
                ["avx512f"] = Avx512F.IsSupported,
                ["avx2"] = Avx2.IsSupported,
                ["fma"] = Fma.IsSupported,
                ["avxvnni"] = AvxVnni.IsSupported,
            },
            ["timestamp"] = DateTime.UtcNow.ToString("o"),
            ["results"] = JsonNode.Parse(_results.ToJsonString()),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
