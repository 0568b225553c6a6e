using System.Text.Json;

namespace Loom.Train;

/// <summary>
/// The folder of one run: <c>config.json</c> (what was asked), <c>metrics.jsonl</c> (one JSON line per epoch and per
/// evaluation), <c>model.safetensors</c>, <c>last.ckpt</c>/<c>best.safetensors</c> (checkpoints), <c>report.md</c>
/// (final metrics table), <c>curves.png</c> and, for classifiers, <c>confusion.png</c> and <c>confusion_normalized.png</c>.
/// </summary>
public sealed class RunFolder
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public RunFolder(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
    }

    /// <summary>A new folder under <paramref name="root"/> named by time and <paramref name="name"/>, e.g. runs/20261129-001500-digits-mlp.</summary>
    public static RunFolder CreateUnder(string root, string name)
    {
        var stem = $"{DateTime.Now:yyyyMMdd-HHmmss}-{name}";
        var path = System.IO.Path.Combine(root, stem);
        for (int i = 2; Directory.Exists(path); i++) path = System.IO.Path.Combine(root, $"{stem}-{i}");
        return new RunFolder(path);
    }

    public string Path { get; }

    public string ConfigPath => File("config.json");
    public string MetricsPath => File("metrics.jsonl");
    /// <summary>The final weights' file name in a run folder (<see cref="ModelPath"/>).</summary>
    public const string ModelFile = "model.safetensors";

    public string ModelPath => File(ModelFile);
    public string CheckpointPath => File("last.ckpt");
    public string BestModelPath => File("best.safetensors");
    public string ReportPath => File("report.md");
    public string CurvesPath => File("curves.png");
    public string ConfusionPath => File("confusion.png");
    public string NormalizedConfusionPath => File("confusion_normalized.png");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void WriteConfig(JsonObject config) => System.IO.File.WriteAllText(ConfigPath, config.ToJsonString(Indented));

    public JsonObject ReadConfig()
    {
        if (!System.IO.File.Exists(ConfigPath)) throw new FileNotFoundException($"{Path} has no config.json; is it a Loom run folder?", ConfigPath);
        return JsonNode.Parse(System.IO.File.ReadAllText(ConfigPath)) as JsonObject
            ?? throw new InvalidDataException($"{ConfigPath} does not hold a JSON object");
    }

    /// <summary>Appends one line to metrics.jsonl (flushed, so a killed run keeps every finished epoch).</summary>
    public void AppendMetrics(JsonObject line)
    {
        using var stream = new FileStream(MetricsPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(line.ToJsonString());
    }

    /// <summary>Rewrites metrics.jsonl (atomically) with only the lines <paramref name="keep"/> accepts.</summary>
    public void RewriteMetrics(Func<JsonObject, bool> keep)
    {
        var kept = ReadMetrics().Where(keep).Select(l => l.ToJsonString() + "\n");
        var temp = MetricsPath + ".tmp";
        System.IO.File.WriteAllText(temp, string.Concat(kept));
        System.IO.File.Move(temp, MetricsPath, overwrite: true);
    }

    /// <summary>Every line of metrics.jsonl.</summary>
    public IReadOnlyList<JsonObject> ReadMetrics() =>
        System.IO.File.Exists(MetricsPath)
            ? System.IO.File.ReadLines(MetricsPath).Where(l => l.Length > 0).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList()
            : [];
}
