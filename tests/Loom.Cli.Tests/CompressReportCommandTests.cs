namespace Loom.Cli.Tests;

/// <summary>
/// `loom compress-report RUN...` over a float run and what quantize and prune made of it: one row per run in the
/// markdown, the JSON and the PNG, with parameters counted from the saved tensors (int8 weights count as parameters,
/// scales do not), the non-zero count showing the pruning, bytes equal to the files' sizes and the test metrics eval gives.
/// </summary>
public sealed class CompressReportCommandTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Report_compares_float_quantised_and_pruned_runs()
    {
        string quantised = _temp.File("q"), pruned = _temp.File("p"), report = _temp.File("report");
        CliRunner.Succeed("quantize", run.Folder, "--out", quantised, "--threads", "1");
        CliRunner.Succeed("prune", run.Folder, "--sparsity", "0.5", "--out", pruned, "--threads", "1");
        var result = CliRunner.Succeed("compress-report", run.Folder, quantised, pruned, "--out", report, "--threads", "1");
        Assert.Contains("compress-report.md", result.Output);

        var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(report, "compress-report.json")))!.AsArray();
        Assert.Equal(3, rows.Count);
        // mlp --hidden 8 on 784 inputs and 10 classes: 784·8 + 8 + 8·8 + 8 + 8·10 + 10 parameters, 6,416 of them weights.
        const long parameters = 784 * 8 + 8 + 8 * 8 + 8 + 8 * 10 + 10, weights = 784 * 8 + 8 * 8 + 8 * 10;
        Assert.All(rows, r => Assert.Equal(parameters, (long)r!["parameters"]!));
        Assert.Equal(parameters, (long)rows[0]!["non_zero_parameters"]!);
        Assert.Equal(parameters - weights / 2, (long)rows[2]!["non_zero_parameters"]!);
        Assert.Equal(["float", "dynamic-int8", "float"], rows.Select(r => (string)r!["method"]!));
        foreach (var (row, folder) in rows.Zip(new[] { run.Folder, quantised, pruned }))
        {
            Assert.Equal(new FileInfo(Path.Combine(folder, "model.safetensors")).Length, (long)row!["bytes_on_disk"]!);
            Assert.True((double)row["latency_batch1_ms"]! > 0 && (double)row["latency_batch64_ms"]! > 0);
        }
        // The float run's accuracy is the one its training measured on the same test split.
        var test = File.ReadLines(Path.Combine(run.Folder, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!).Last(l => (string?)l["kind"] == "test");
        Assert.Equal((double)test["accuracy"]!, (double)rows[0]!["metrics"]!["accuracy"]!, 12);

        var markdown = File.ReadAllLines(Path.Combine(report, "compress-report.md"));
        Assert.Contains(markdown, l => l.StartsWith("| run | model | method | parameters | non-zero | bytes on disk | batch-1 ms | batch-64 ms | loss | accuracy", StringComparison.Ordinal));
        Assert.Equal(3, markdown.Count(l => l.StartsWith($"| {Path.GetFileName(run.Folder)} ", StringComparison.Ordinal) || l.StartsWith("| q ", StringComparison.Ordinal) || l.StartsWith("| p ", StringComparison.Ordinal)));
        var png = File.ReadAllBytes(Path.Combine(report, "compress-report.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

        CliRunner.Fail(["compress-report", _temp.File("missing")], "run folder", "does not exist");

        // A second report into the same folder keeps the first unless --force says otherwise.
        var first = File.ReadAllBytes(Path.Combine(report, "compress-report.md"));
        CliRunner.Fail(["compress-report", run.Folder, "--out", report, "--threads", "1"], $"--out {report} already holds a report", "--force");
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(report, "compress-report.md")));
        CliRunner.Succeed("compress-report", run.Folder, "--out", report, "--threads", "1", "--force");
        Assert.Single(JsonNode.Parse(File.ReadAllText(Path.Combine(report, "compress-report.json")))!.AsArray());
    }
}
