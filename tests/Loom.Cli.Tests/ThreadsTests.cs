namespace Loom.Cli.Tests;

/// <summary>eval, predict and cv run with the thread count asked for, or else the trained run's.</summary>
public sealed class ThreadsTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly int _threadsBefore = Loom.Threads.Count;

    public void Dispose()
    {
        Loom.Threads.Count = _threadsBefore;
        _temp.Dispose();
    }

    /// <summary>A run trained with one thread, so its config.json says 1.</summary>
    private string TrainedRun()
    {
        var root = _temp.File("runs");
        CliRunner.Succeed("train", "--model", "mlp", "--hidden", "8", "--max-steps", "2", "--threads", "1", "--output", root);
        return CliRunner.RunFolderUnder(root);
    }

    [Fact]
    public void Eval_and_predict_use_the_run_s_thread_count_unless_given_one()
    {
        var run = TrainedRun();
        var predictions = _temp.File("p.csv");

        Loom.Threads.Count = 2;
        CliRunner.Succeed("eval", run);
        Assert.Equal(1, Loom.Threads.Count);

        Loom.Threads.Count = 2;
        CliRunner.Succeed("predict", run, "--output", predictions);
        Assert.Equal(1, Loom.Threads.Count);

        CliRunner.Succeed("eval", run, "--threads", "3");
        Assert.Equal(3, Loom.Threads.Count);
        CliRunner.Succeed("predict", run, "--threads", "2", "--output", predictions, "--force");
        Assert.Equal(2, Loom.Threads.Count);
    }

    [Fact]
    public void Cv_uses_the_thread_count_given()
    {
        Loom.Threads.Count = 2;
        CliRunner.Succeed("cv", "--folds", "2", "--data", TestData.BlobsCsv(_temp.Path), "--target", "label", "--hidden", "8", "--epochs", "1",
            "--threads", "1", "--output", _temp.File("runs"));
        Assert.Equal(1, Loom.Threads.Count);
    }

    [Fact]
    public void A_thread_count_below_one_is_one_error_line()
    {
        var result = CliRunner.Run("eval", _temp.Path, "--threads", "0");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --threads must be at least 1, got 0", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public void A_thread_count_far_above_the_cores_is_taken_with_a_warning()
    {
        var run = TrainedRun();
        int cores = Environment.ProcessorCount;
        var result = CliRunner.Run("eval", run, "--threads", (2 * cores + 1).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(2 * cores + 1, Loom.Threads.Count);
        Assert.StartsWith($"warning: --threads {2 * cores + 1} is more than the {cores} core", Assert.Single(result.ErrorLines));
        // Twice the cores is quiet; and a refused count is the error alone.
        CliRunner.Succeed("eval", run, "--threads", (2 * cores).ToString(CultureInfo.InvariantCulture));
        CliRunner.Fail(["eval", run, "--threads", "-1"], "--threads must be at least 1, got -1");
    }
}
