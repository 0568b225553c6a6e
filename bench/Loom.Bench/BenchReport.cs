using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Bench.Comparison;
using Loom.Bench.Peers;

namespace Loom.Bench;

/// <summary>
/// Collects results as JSON records ({"benchmark", "case", metrics…}) and prints each as it arrives. It also carries
/// the run's peers, which the benchmarks set their cases up in, and describes them in the JSON.
/// </summary>
public sealed class BenchReport
{
    /// <summary>Version of the JSON layout. 2: peer comparisons are interleaved rounds ("peer", "ratio", "spread", "unstable"…) and the root has "comparison" and "peers".</summary>
    public const int Schema = 2;

    private readonly JsonArray _results = [];
    private readonly TextWriter _log;
    private readonly ComparisonSettings? _comparison;

    /// <param name="peers">The run's peers (null: none, as without --peers).</param>
    /// <param name="comparison">How cases were compared with peers, recorded in the JSON when peers ran.</param>
    public BenchReport(TextWriter log, PeerSet? peers = null, ComparisonSettings? comparison = null)
    {
        _log = log;
        Peers = peers ?? new PeerSet(false, log);
        _comparison = comparison;
    }

    public JsonArray Results => _results;

    public PeerSet Peers { get; }

    public TextWriter Log => _log;

    /// <summary>Adds one result; <paramref name="metrics"/> values are numbers, strings, booleans or JSON nodes (kept out of the printed line).</summary>
    public void Add(string benchmark, string @case, params (string Key, object Value)[] metrics)
    {
        var record = new JsonObject { ["benchmark"] = benchmark, ["case"] = @case };
        var line = $"{benchmark,-14} {@case,-34}";
        foreach (var (key, value) in metrics)
        {
            switch (value)
            {
                case JsonNode node:
                    record[key] = node.DeepClone();
                    continue;
                case bool flag:
                    record[key] = flag;
                    if (flag) line += $"  {key.ToUpperInvariant()}";
                    continue;
                case double d:
                    record[key] = d;
                    line += $"  {key} {d,10:G4}";
                    continue;
                default:
                    record[key] = JsonValue.Create(value);
                    line += $"  {key} {value}";
                    continue;
            }
        }
        _results.Add(record);
        _log.WriteLine(line);
    }

    /// <summary>The cases whose comparison with a peer was flagged unstable.</summary>
    public IEnumerable<string> UnstableCases() =>
        _results.OfType<JsonObject>().Where(r => r["unstable"]?.GetValue<bool>() == true)
            .Select(r => $"{r["benchmark"]} {r["case"]}");

    /// <summary>The whole report with machine information, as indented JSON.</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["schema"] = Schema,
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
        };
        if (Peers.Enabled)
        {
            if (_comparison is not null)
                root["comparison"] = new JsonObject
                {
                    ["rounds"] = _comparison.Rounds, ["round_seconds"] = _comparison.RoundSeconds, ["max_spread"] = _comparison.MaxSpread,
                };
            root["peers"] = Peers.Describe();
        }
        root["results"] = _results.DeepClone();
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
