using System.Runtime.InteropServices;

namespace Loom.Cli.Tests;

/// <summary>
/// `loom distill --teacher RUN --model SMALLER` end to end: a smaller student trained on the teacher run's data into a
/// run folder that eval takes, the teacher's outputs remembered after the first epoch, and bad options refused.
/// </summary>
public sealed partial class DistillCommandTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Student_run_is_written_and_the_teacher_runs_once_per_sample()
    {
        var result = CliRunner.Succeed("distill", "--teacher", run.Folder, "--model", "mlp", "--hidden", "4", "--epochs", "2",
            "--temperature", "3", "--alpha", "0.8", "--threads", "1", "--output", _temp.Path);
        var output = Regex.Replace(result.Output, @"\s+", " "); // lines wrap at the console's width
        Assert.Contains("T = 3, α = 0.8", output);
        var folder = CliRunner.RunFolderUnder(_temp.Path);
        Assert.Contains("distilled", Path.GetFileName(folder));
        // The student (hidden 4) is the smaller model, not a copy of the teacher (hidden 8).
        Assert.Equal(new Shape(4, 784), SafeTensors.Load(Path.Combine(folder, "model.safetensors")).Tensors["1.weight"].Shape);
        Assert.Contains("accuracy", CliRunner.Succeed("eval", folder, "--threads", "1").Output);

        // Epoch 2 sees epoch 1's training and validation samples again, so every one of them is served from memory;
        // only the test split (seen once) adds teacher forwards.
        var counts = TeacherCounts().Match(output);
        Assert.True(counts.Success, result.Output);
        long ran = long.Parse(counts.Groups[1].Value.Replace(",", "")), served = long.Parse(counts.Groups[2].Value.Replace(",", ""));
        Assert.True(served > 0 && served < ran, $"teacher ran on {ran}, cache served {served}");
    }

    [Fact]
    public void With_augment_the_teacher_scores_every_augmented_view_the_student_sees()
    {
        var plain = Distil("plain");
        // Shifted views are new inputs in both epochs: the teacher runs on them (consistent teaching) rather than the
        // student being trained towards the teacher's outputs for the unshifted images.
        var augmented = Distil("augmented", "--augment", "crop");
        Assert.True(augmented.Ran > plain.Ran && augmented.Served < plain.Served, $"plain {plain}, augmented {augmented}");
    }

    [Fact]
    public void With_mixup_the_teacher_scores_the_mixed_batches_and_alpha_0_never_runs_it()
    {
        var plain = Distil("plain");
        // Every training batch is a new mix in both epochs, so the teacher runs on each; validation and test are not
        // mixed, so epoch 2's validation samples are still served from memory.
        var mixed = Distil("mixed", "--mixup");
        Assert.True(mixed.Ran > plain.Ran && mixed.Served > 0, $"plain {plain}, mixed {mixed}");
        // No mixed sample is kept (none comes again): the cache holds the validation and test samples only, so the
        // training samples the plain run keeps are those the mixed run ran twice (two epochs) and never kept.
        Assert.Equal(plain.Ran, plain.Kept);
        Assert.Equal(2 * (plain.Kept - mixed.Kept), mixed.Ran - mixed.Kept);
        // α = 0 (the student alone, with the same mixup) weighs the teacher by 0 and never asks it.
        Assert.Equal((0L, 0L, 0L), Distil("alone", "--mixup", "--alpha", "0"));
    }

    [Fact]
    public void With_a_hint_the_teacher_features_are_remembered_beside_its_logits()
    {
        var plain = Distil("plain");
        // The student's 4 hidden units map to the teacher's 8 (the features each last Linear layer reads); the teacher's
        // features ride in its cache with the logits, so it runs on exactly the samples it runs on without a hint.
        Assert.Equal(plain, Distil("hinted", "--hint-weight", "0.5"));
        // α = 0 with a hint still needs the teacher: its features.
        Assert.Equal(plain, Distil("hint-only", "--hint-weight", "1", "--alpha", "0"));
    }

    /// <summary>
    /// A two-epoch distillation into a run folder that eval takes, with the teacher's counts the command prints: the
    /// samples it ran on and those its remembered outputs served.
    /// </summary>
    private (long Ran, long Served, long Kept) Distil(string name, params string[] extra)
    {
        var result = CliRunner.Succeed(["distill", "--teacher", run.Folder, "--model", "mlp", "--hidden", "4", "--epochs", "2", "--threads", "1",
            "--output", _temp.File(name), .. extra]);
        var output = Regex.Replace(result.Output, @"\s+", " ");
        var counts = TeacherCounts().Match(output);
        Assert.True(counts.Success, result.Output);
        if (extra.Contains("--mixup")) Assert.Contains(", mixup", output);
        if (extra.Contains("--hint-weight")) Assert.Contains("(4 → 8 features, regressor 40 parameters, not saved)", output);
        Assert.Contains("accuracy", CliRunner.Succeed("eval", CliRunner.RunFolderUnder(_temp.File(name)), "--threads", "1").Output);
        long Count(int group) => long.Parse(counts.Groups[group].Value.Replace(",", ""));
        return (Count(1), Count(2), Count(3));
    }

    [Fact]
    public void Bad_options_are_one_error_line()
    {
        CliRunner.Fail(["distill", "--teacher", run.Folder, "--model", "mlp", "--alpha", "1.5"], "--alpha must be in [0, 1], got 1.5");
        CliRunner.Fail(["distill", "--teacher", run.Folder, "--model", "mlp", "--temperature", "0"], "--temperature must be positive, got 0");
        CliRunner.Fail(["distill", "--teacher", _temp.File("missing"), "--model", "mlp"], "missing");
        CliRunner.Fail(["distill", "--teacher", run.Folder, "--model", "mlp", "--hint-weight", "-1"], "--hint-weight must be 0 or more, got -1");
    }

    /// <summary>
    /// A distillation stopped mid-run (--max-steps, which writes the checkpoint) and continued by `--resume RUN` alone
    /// ends with exactly the weights of the run that was never stopped: the teacher, T, α, mixup (its generator) and the
    /// hint (its regressor) come back from config.json and the checkpoint. The same stopped run with one stored setting
    /// changed ends elsewhere, so the equality cannot come from a resume that ignores them.
    /// </summary>
    [Fact]
    public void A_stopped_distillation_resumes_with_its_teacher_and_settings_to_the_uninterrupted_weights()
    {
        var teacher = TestData.CopyFolder(run.Folder, _temp.File("teacher"));
        // No schedule: --max-steps would otherwise shorten the stopped run's learning-rate curve (it spans the steps run).
        string[] recipe = ["distill", "--teacher", teacher, "--model", "mlp", "--hidden", "4", "--epochs", "2", "--threads", "1", "--schedule", "none",
            "--temperature", "2", "--alpha", "0.7", "--mixup", "--hint-weight", "0.5"];
        CliRunner.Succeed([.. recipe, "--output", _temp.File("whole")]);
        var whole = Weights(CliRunner.RunFolderUnder(_temp.File("whole")));

        CliRunner.Succeed([.. recipe, "--max-steps", "5", "--output", _temp.File("stopped")]);
        var stopped = CliRunner.RunFolderUnder(_temp.File("stopped"));
        var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(stopped, "config.json")))!["distillation"]!;
        Assert.Equal(Path.GetFullPath(teacher), (string?)settings["teacher"]);
        Assert.Equal((2.0, 0.7, true, 0.5), ((double)settings["temperature"]!, (double)settings["alpha"]!, (bool)settings["mixup"]!, (double)settings["hint_weight"]!));
        var tampered = TestData.CopyFolder(stopped, _temp.File("tampered"));
        var resumed = CliRunner.Succeed("distill", "--resume", stopped, "--max-steps", "100000", "--threads", "1");
        Assert.Contains("resuming", resumed.Output);
        Assert.Equal(whole, Weights(stopped));

        // Without the mixup the stored run asked for, the same checkpoint trains on to other weights.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(tampered, "config.json")))!;
        config["distillation"]!["mixup"] = false;
        File.WriteAllText(Path.Combine(tampered, "config.json"), config.ToJsonString());
        CliRunner.Succeed("distill", "--resume", tampered, "--max-steps", "100000", "--threads", "1");
        Assert.NotEqual(whole, Weights(tampered));
    }

    [Fact]
    public void A_resume_without_its_teacher_or_with_other_settings_is_one_error_line()
    {
        var teacher = TestData.CopyFolder(run.Folder, _temp.File("teacher"));
        CliRunner.Succeed("distill", "--teacher", teacher, "--model", "mlp", "--hidden", "4", "--epochs", "2", "--max-steps", "3", "--threads", "1", "--output", _temp.File("student"));
        var student = CliRunner.RunFolderUnder(_temp.File("student"));
        CliRunner.Fail(["distill", "--resume", student, "--temperature", "2"], "--temperature cannot change it");
        CliRunner.Fail(["train", "--resume", student], "is a loom distill run", "loom distill --resume");
        CliRunner.Fail(["distill", "--resume", run.Folder], "is not a loom distill run");
        CliRunner.Fail(["distill", "--model", "mlp"], "--teacher RUN is required");

        // Retrained (here: other bytes) since the student started, the teacher would teach another function.
        var weights = Path.Combine(teacher, "model.safetensors");
        var original = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, [.. original, 0]);
        CliRunner.Fail(["distill", "--resume", student], "has changed since this run started");
        File.WriteAllBytes(weights, original);
        Directory.Delete(teacher, recursive: true);
        CliRunner.Fail(["distill", "--resume", student], "is gone");
    }

    /// <summary>Every tensor of a run's model.safetensors, by name, as its raw float bits.</summary>
    private static Dictionary<string, string> Weights(string folder) =>
        SafeTensors.Load(Path.Combine(folder, "model.safetensors")).Tensors
            .ToDictionary(kv => kv.Key, kv => Convert.ToHexString(MemoryMarshal.AsBytes(kv.Value.ToArray<float>().AsSpan())));

    [GeneratedRegex(@"teacher ran on ([\d,]+) samples, its remembered outputs served ([\d,]+) \(([\d,]+) kept\)")]
    private static partial Regex TeacherCounts();
}
