namespace Loom.Cli.Tests;

/// <summary>
/// `loom train --resume RUN` with options: those a continued run can take (more --epochs, --max-steps, --threads) are
/// used and recorded in config.json; any other is refused by name rather than silently ignored.
/// </summary>
public sealed class ResumeOptionsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A finished one-epoch run on a small table.</summary>
    private string OneEpochRun()
    {
        var csv = TestData.BlobsCsv(_temp.Path);
        CliRunner.Succeed("train", "--data", csv, "--target", "label", "--hidden", "8", "--epochs", "1", "--batch-size", "16", "--output", _temp.File("runs"));
        return CliRunner.RunFolderUnder(_temp.File("runs"));
    }

    [Theory]
    [InlineData("--lr", "0.5")]
    [InlineData("--model", "mlp")]
    [InlineData("--data", "digits")]
    [InlineData("--hidden", "64")]
    [InlineData("--output", "elsewhere")]
    public void An_option_that_would_change_the_run_is_refused_by_name(string option, string value)
    {
        var folder = OneEpochRun();
        var before = TestData.Snapshot(folder);
        CliRunner.Fail(["train", "--resume", folder, option, value, "--epochs", "2"],
            $"--resume continues the run as its config.json set it up: {option} cannot change it (only --epochs, --max-steps and --threads can)");
        Assert.Equal(before, TestData.Snapshot(folder));
    }

    [Fact]
    public void More_epochs_continue_the_run_and_are_recorded()
    {
        var folder = OneEpochRun();
        var result = CliRunner.Succeed("train", "--resume", folder, "--epochs", "3");

        Assert.Equal(["epoch", "epoch", "epoch", "test"], TestData.Metrics(folder).Select(l => (string?)l["kind"]));
        Assert.Contains(result.Lines, l => l.Contains("resumed at epoch 2 batch 0", StringComparison.Ordinal));
        Assert.Contains("note: the cosine schedule now spans 3 epochs instead of 1; the learning rate continues on the longer curve", result.Lines);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.Equal(3, (int)config["epochs"]!);
    }

    [Fact]
    public void The_schedule_note_says_which_way_the_curve_moved_and_is_absent_when_nothing_moves()
    {
        var saved = new TrainingConfig { Epochs = 15, Schedule = "onecycle" };
        Assert.Equal("note: the onecycle schedule now spans 12 epochs instead of 15; the learning rate continues on the shorter curve",
            Commands.TrainingOptions.ScheduleChangeNote(saved, saved with { Epochs = 12 }));
        Assert.EndsWith("the longer curve", Commands.TrainingOptions.ScheduleChangeNote(saved, saved with { Epochs = 20 }));
        Assert.Null(Commands.TrainingOptions.ScheduleChangeNote(saved, saved));
        Assert.Null(Commands.TrainingOptions.ScheduleChangeNote(saved with { Schedule = "plateau" }, saved with { Schedule = "plateau", Epochs = 20 }));
    }

    [Fact]
    public void Fewer_epochs_than_trained_are_refused()
    {
        var folder = OneEpochRun();
        CliRunner.Succeed("train", "--resume", folder, "--epochs", "2");
        var before = TestData.Snapshot(folder);
        CliRunner.Fail(["train", "--resume", folder, "--epochs", "1"], "--epochs 1: the run has already trained 2 epochs; give --epochs 2 or more to continue it");
        Assert.Equal(before, TestData.Snapshot(folder));
    }

    [Fact]
    public void A_damaged_metrics_line_is_one_error_line_and_changes_nothing()
    {
        var folder = OneEpochRun();
        File.AppendAllText(Path.Combine(folder, "metrics.jsonl"), "{\"kind\": \"epoch\", \"epo\n");
        var before = TestData.Snapshot(folder);
        CliRunner.Fail(["train", "--resume", folder, "--epochs", "2"], $"{Path.Combine(folder, "metrics.jsonl")}: line 3 is not a line loom train writes");
        Assert.Equal(before, TestData.Snapshot(folder));
    }
}
