using System.Security.Cryptography;

namespace Loom.Cli.Tests;

/// <summary>Two small digits runs (seeds 1 and 2) that the tests ensemble; copied before any test changes one.</summary>
public sealed class TwoRunsFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public TwoRunsFixture()
    {
        Runs = [.. new[] { "1", "2" }.Select(seed =>
        {
            CliRunner.Succeed("train", "--model", "mlp", "--hidden", "8", "--max-steps", "3", "--seed", seed, "--threads", "1", "--output", _temp.File(seed));
            return CliRunner.RunFolderUnder(_temp.File(seed));
        })];
    }

    public string[] Runs { get; }

    public void Dispose() => _temp.Dispose();
}

/// <summary>
/// `loom ensemble RUN…` end to end: the ensemble run folder (members and their weights' SHA-256), eval of it, one member
/// equal to that member, mismatched or changed members refused in one line, and distillation from an ensemble
/// (the teacher's outputs remembered, a resume refusing a member changed since).
/// </summary>
public sealed partial class EnsembleCommandTests(TwoRunsFixture fixture) : IClassFixture<TwoRunsFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Ensemble(string name, params string[] members)
    {
        CliRunner.Succeed(["ensemble", .. members, "--threads", "1", "--output", _temp.File(name)]);
        return CliRunner.RunFolderUnder(_temp.File(name));
    }

    // "loss 0.1234", "accuracy 0.5678"…: the metric rows of an eval, as printed.
    private static string[] Metrics(CliResult eval) =>
        eval.Lines.Select(l => MetricRow().Match(l)).Where(m => m.Success).Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value}").ToArray();

    [Fact]
    public void An_ensemble_of_one_evaluates_as_its_member()
    {
        var member = fixture.Runs[0];
        var ensemble = Ensemble("one", member);
        var alone = Metrics(CliRunner.Succeed("eval", member, "--threads", "1"));
        Assert.Contains(alone, r => r.StartsWith("accuracy", StringComparison.Ordinal));
        Assert.Equal(alone, Metrics(CliRunner.Succeed("eval", ensemble, "--threads", "1")));
    }

    [Fact]
    public void The_ensemble_folder_records_its_members_and_their_weights()
    {
        var ensemble = Ensemble("two", fixture.Runs);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(ensemble, "config.json")))!;
        Assert.Equal("ensemble", (string?)config["model"]);
        var members = config["ensemble"]!.AsArray();
        Assert.Equal(fixture.Runs.Select(Path.GetFullPath), members.Select(m => (string)m!["run"]!));
        foreach (var m in members)
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine((string)m!["run"]!, "model.safetensors")))), (string?)m["sha256"]);
        Assert.False(File.Exists(Path.Combine(ensemble, "model.safetensors")));

        // Two members that disagree somewhere: the ensemble's loss is neither member's.
        var losses = fixture.Runs.Append(ensemble).Select(r => Metrics(CliRunner.Succeed("eval", r, "--threads", "1"))[0]).ToList();
        Assert.Equal(3, losses.Distinct().Count());
        CliRunner.Succeed("predict", ensemble, "--threads", "1", "--output", _temp.File("predictions.csv"));
        Assert.True(File.Exists(_temp.File("predictions.csv")));

        // The compression report counts both members' parameters and bytes.
        CliRunner.Succeed("compress-report", ensemble, fixture.Runs[0], "--threads", "1", "--out", _temp.File("report"));
        var rows = JsonNode.Parse(File.ReadAllText(_temp.File("report/compress-report.json")))!.AsArray();
        Assert.Equal(2 * (long)rows[1]!["parameters"]!, (long)rows[0]!["parameters"]!);
        Assert.Equal("ensemble of 2", (string?)rows[0]!["method"]);
    }

    [Fact]
    public void Mismatched_gone_or_changed_members_are_one_error_line()
    {
        CliRunner.Succeed("train", "--data", "sklearn-digits", "--model", "mlp", "--hidden", "8", "--max-steps", "2", "--threads", "1", "--output", _temp.File("small"));
        var small = CliRunner.RunFolderUnder(_temp.File("small"));
        // 8×8 images against 28×28: the members could not score the same batch.
        CliRunner.Fail(["ensemble", fixture.Runs[0], small, "--output", _temp.File("mixed")], "differ in input shape", small);
        Assert.False(Directory.Exists(_temp.File("mixed")));

        var member = TestData.CopyFolder(fixture.Runs[1], _temp.File("member"));
        var ensemble = Ensemble("ok", fixture.Runs[0], member);
        CliRunner.Fail(["ensemble", ensemble, fixture.Runs[0], "--output", _temp.File("nested")], "is itself an ensemble");
        CliRunner.Fail(["eval", ensemble, "--best"], "leave out --best");
        CliRunner.Fail(["train", "--resume", ensemble], "is an ensemble", "loom distill --teacher");
        CliRunner.Fail(["quantize", ensemble, "--out", _temp.File("quantized")], "compress its member runs");

        var weights = Path.Combine(member, "model.safetensors");
        File.WriteAllBytes(weights, [.. File.ReadAllBytes(weights), 0]);
        CliRunner.Fail(["eval", ensemble], "has changed since the ensemble was made");
        Directory.Delete(member, recursive: true);
        CliRunner.Fail(["eval", ensemble], "is gone");
        Assert.False(Directory.Exists(member));
    }

    [Fact]
    public void A_student_distils_from_an_ensemble_and_its_resume_refuses_a_changed_member()
    {
        var member = TestData.CopyFolder(fixture.Runs[1], _temp.File("member"));
        var ensemble = Ensemble("teacher", fixture.Runs[0], member);
        var result = CliRunner.Succeed("distill", "--teacher", ensemble, "--model", "mlp", "--hidden", "4", "--epochs", "2", "--temperature", "2", "--alpha", "0.5",
            "--threads", "1", "--output", _temp.File("student"));
        var output = Regex.Replace(result.Output, @"\s+", " ");
        Assert.Contains("from the ensemble", output);
        // Epoch 2's samples are served from the ensemble's remembered outputs.
        var counts = TeacherCounts().Match(output);
        Assert.True(counts.Success && long.Parse(counts.Groups[2].Value.Replace(",", "")) > 0, result.Output);
        var student = CliRunner.RunFolderUnder(_temp.File("student"));
        Assert.Contains("accuracy", CliRunner.Succeed("eval", student, "--threads", "1").Output);
        CliRunner.Fail(["distill", "--teacher", ensemble, "--model", "mlp", "--hint-weight", "1", "--output", _temp.File("hint")], "an ensemble teacher");

        CliRunner.Succeed("distill", "--teacher", ensemble, "--model", "mlp", "--hidden", "4", "--epochs", "2", "--max-steps", "3", "--threads", "1", "--output", _temp.File("stopped"));
        var stopped = CliRunner.RunFolderUnder(_temp.File("stopped"));
        var weights = Path.Combine(member, "model.safetensors");
        var original = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, [.. original, 0]);
        CliRunner.Fail(["distill", "--resume", stopped], "has changed since the ensemble was made");
        File.WriteAllBytes(weights, original);
        Assert.Contains("resuming", CliRunner.Succeed("distill", "--resume", stopped, "--max-steps", "100000", "--threads", "1").Output);
    }

    [GeneratedRegex(@"teacher ran on ([\d,]+) samples, its remembered outputs served ([\d,]+)")]
    private static partial Regex TeacherCounts();

    [GeneratedRegex(@"^\W*(loss|accuracy|f1_macro)\W+([\d.]+)\W*$")]
    private static partial Regex MetricRow();
}
