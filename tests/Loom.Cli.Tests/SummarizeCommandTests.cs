using System.Text.Json;

namespace Loom.Cli.Tests;

/// <summary>`loom train` on a package index (summarisation, --quick), its report, `loom summarize`, and their errors.</summary>
public sealed class SummarizeCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly string[] Kinds = ["image", "audio", "video", "font", "network", "disk", "mail", "chess"];
    private static readonly string[] Roles = ["viewer", "editor", "converter", "monitor"];

    // Synopses "KIND ROLE" that the description states after filler words, so the lead (its first words) scores low
    // and a model that learns where to look scores high.
    private string PackageIndex(int packages = 320)
    {
        var lines = new List<string>();
        for (int i = 0; i < packages; i++)
        {
            string kind = Kinds[i % Kinds.Length], role = Roles[i / Kinds.Length % Roles.Length];
            lines.AddRange([$"Package: pkg{i}", $"Description: {kind} {role}",
                $" This free software program number {i} is a {kind} {role} for the desktop.", " .", " It is easy to use.", ""]);
        }
        var path = _temp.File("packages.txt");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static Dictionary<string, double> TestMetrics(string run) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadLines(Path.Combine(run, "metrics.jsonl")).Last(l => l.Contains("\"kind\":\"test\"")))!
            .Where(kv => kv.Value.ValueKind == JsonValueKind.Number).ToDictionary(kv => kv.Key, kv => kv.Value.GetDouble());

    [Fact]
    public void A_quick_run_beats_its_untrained_score_and_the_lead_and_summarize_prints_a_summary()
    {
        var data = PackageIndex();
        string[] common = ["train", "--data", data, "--quick", "--lr", "1e-2", "--val-fraction", "0.1", "--test-fraction", "0.2", "--seed", "1"];
        CliRunner.Succeed([.. common, "--epochs", "1", "--max-steps", "1", "--output", _temp.File("untrained")]);
        var untrained = TestMetrics(CliRunner.RunFolderUnder(_temp.File("untrained")));
        CliRunner.Succeed([.. common, "--epochs", "12", "--output", _temp.File("runs")]);
        var run = CliRunner.RunFolderUnder(_temp.File("runs"));
        var trained = TestMetrics(run);

        Assert.Contains("\"task\": \"summarization\"", File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.True(trained["rougeL"] > untrained["rougeL"] + 20, $"ROUGE-L {trained["rougeL"]:F1} trained, {untrained["rougeL"]:F1} untrained");
        Assert.True(trained["rougeL"] > trained["lead_rougeL"], $"ROUGE-L {trained["rougeL"]:F1}, lead {trained["lead_rougeL"]:F1}");
        var report = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("## ROUGE F-measure on", report);
        Assert.Contains("| lead-", report);
        Assert.Contains("## Examples (test)", report);

        var result = CliRunner.Succeed("summarize", run, "--text", "This free software program number 3 is a font editor for the desktop. It is easy to use.");
        Assert.Single(result.Lines);
        Assert.NotEmpty(result.Lines[0].Trim());
        CliRunner.Fail(["summarize", run, "--text", ""], "an empty text has nothing to summarise");
        var latin1 = _temp.File("latin1.txt");
        File.WriteAllBytes(latin1, [0x63, 0x61, 0x66, 0xE9]);
        CliRunner.Fail(["summarize", run, "--file", latin1], $"{latin1}: not UTF-8 text");
    }

    [Fact]
    public void Summarize_refuses_a_run_of_another_task_and_train_names_the_bad_line()
    {
        CliRunner.Fail(["summarize", _temp.Path, "--text", "x"], "is not a Loom run folder");
        var bad = _temp.File("bad.txt");
        File.WriteAllText(bad, "Package: a\nDescription: s\n long\nnot a field\n");
        CliRunner.Fail(["train", "--data", bad, "--quick", "--output", _temp.File("runs")], $"{bad}: line 4: expected 'Field: value'");
        Assert.False(Directory.Exists(_temp.File("runs")) && Directory.EnumerateFileSystemEntries(_temp.File("runs")).Any());
    }
}
