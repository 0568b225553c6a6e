namespace Loom.Cli.Tests;

public sealed class CrossValidateCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Cv_trains_each_fold_and_prints_mean_and_std()
    {
        // 90 rows: 72 train after the 20% test hold-out, so three folds of 24.
        var csv = TestData.BlobsCsv(_temp.Path);
        var result = CliRunner.Succeed("cv", "--folds", "3", "--data", csv, "--target", "label", "--model", "mlp", "--hidden", "16", "--epochs", "10",
            "--lr", "0.01", "--batch-size", "16", "--output", _temp.Path);

        var folder = CliRunner.RunFolderUnder(_temp.Path);
        Assert.StartsWith("cv3-blobs-mlp", Path.GetFileName(folder)[16..]);
        var lines = TestData.Metrics(folder);
        var folds = lines.Where(l => (string?)l["kind"] == "fold").ToList();
        Assert.Equal([1, 2, 3], folds.Select(f => (int)f["fold"]!));
        Assert.All(folds, f => Assert.Equal((48, 24), ((int)f["train"]!, (int)f["validation"]!)));
        var accuracies = folds.Select(f => (double)f["accuracy"]!).ToArray();
        Assert.All(accuracies, a => Assert.InRange(a, 0.8, 1.0));

        var summary = Assert.Single(lines, l => (string?)l["kind"] == "cv_summary");
        double mean = accuracies.Average();
        double std = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / 2);
        Assert.Equal(mean, (double)summary["accuracy"]!["mean"]!, 12);
        Assert.Equal(std, (double)summary["accuracy"]!["std"]!, 12);

        Assert.Contains(result.Lines, l => l.Contains("mean ± std", StringComparison.Ordinal));
        string shown = $"{mean.ToString("F4", CultureInfo.InvariantCulture)} ± {std.ToString("F4", CultureInfo.InvariantCulture)}";
        Assert.Contains(result.Lines, l => l.Contains("accuracy", StringComparison.Ordinal) && l.Contains(shown, StringComparison.Ordinal));
        Assert.Equal(3, result.Lines.Count(l => l.StartsWith("fold ", StringComparison.Ordinal)));
    }

    [Fact]
    public void More_folds_than_samples_is_one_error_line_and_leaves_no_folder()
    {
        var csv = TestData.BlobsCsv(_temp.Path);
        var output = _temp.File("runs");
        CliRunner.Fail(["cv", "--folds", "100", "--data", csv, "--target", "label", "--output", output], "--folds 100: the training split has 72 samples; give at most 72 folds");
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void A_cv_folder_is_refused_by_eval_and_resume_as_a_run_without_a_model()
    {
        var output = _temp.File("runs");
        CliRunner.Succeed("cv", "--folds", "2", "--data", TestData.BlobsCsv(_temp.Path), "--target", "label", "--hidden", "8", "--epochs", "1", "--output", output);
        var folder = CliRunner.RunFolderUnder(output);
        string message = $"{folder} is a cross-validation run (loom cv), which keeps no model";
        CliRunner.Fail(["eval", folder], message);
        CliRunner.Fail(["predict", folder, "--output", _temp.File("p.csv")], message);
        CliRunner.Fail(["train", "--resume", folder], message);
    }
}
