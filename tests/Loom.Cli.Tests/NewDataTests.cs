namespace Loom.Cli.Tests;

/// <summary>An MLP trained well on the blobs table (three separable classes), shared by the tests that give it new data.</summary>
public sealed class BlobsRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public BlobsRunFixture()
    {
        Csv = TestData.BlobsCsv(_temp.Path);
        CliRunner.Succeed("train", "--data", Csv, "--target", "label", "--hidden", "16", "--epochs", "20", "--lr", "0.01", "--batch-size", "16",
            "--output", _temp.File("runs"));
        Folder = CliRunner.RunFolderUnder(_temp.File("runs"));
    }

    /// <summary>The training data.</summary>
    public string Csv { get; }

    public string Folder { get; }

    public void Dispose() => _temp.Dispose();
}

/// <summary>
/// `loom eval` and `loom predict` with `--data` new data: all of it is used, its columns are matched to the training
/// data's by name (reordered and extra columns are fine, missing or renamed ones are refused), its labels to the run's
/// classes by name, and a file without the label column can be predicted.
/// </summary>
public sealed class NewDataTests(BlobsRunFixture run) : IClassFixture<BlobsRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>The training CSV's rows with only <paramref name="columns"/>, in that order (a column not in it is filled with <paramref name="filler"/>).</summary>
    private string Rewrite(string name, string[] columns, Func<string[], bool>? keep = null, string filler = "7")
    {
        var lines = File.ReadAllLines(run.Csv);
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Select(l => l.Split(',')).Where(f => keep?.Invoke(f) ?? true)
            .Select(f => string.Join(',', columns.Select(c => Array.IndexOf(header, c) is >= 0 and var i ? f[i] : filler)));
        var path = _temp.File(name);
        File.WriteAllLines(path, [string.Join(',', columns), .. rows]);
        return path;
    }

    private static string[] Predictions(CliResult result, string path)
    {
        Assert.Contains("wrote", result.Output);
        return File.ReadAllLines(path);
    }

    private static double Accuracy(CliResult result) =>
        double.Parse(Assert.Single(result.Lines, l => l.Contains("│ accuracy", StringComparison.Ordinal)).Split('│', StringSplitOptions.TrimEntries)[2], CultureInfo.InvariantCulture);

    [Fact]
    public void Reordered_columns_and_an_extra_column_give_the_same_predictions()
    {
        var same = Rewrite("same.csv", ["x0", "x1", "x2", "x3", "label"]);
        var shuffled = Rewrite("shuffled.csv", ["label", "x3", "comment", "x1", "x0", "x2"]);
        CliRunner.Succeed("predict", run.Folder, "--data", same, "--output", _temp.File("same-predictions.csv"));
        var result = CliRunner.Succeed("predict", run.Folder, "--data", shuffled, "--output", _temp.File("shuffled-predictions.csv"));

        Assert.Equal(File.ReadAllLines(_temp.File("same-predictions.csv")), File.ReadAllLines(_temp.File("shuffled-predictions.csv")));
        Assert.Contains("note: shuffled.csv: a column the model does not use is left out (comment)", result.Lines);
        Assert.Contains("note: shuffled.csv: the columns come in another order than in the training data; they are matched by name", result.Lines);
        // All 90 rows, not a test split of them.
        Assert.Equal(91, File.ReadAllLines(_temp.File("shuffled-predictions.csv")).Length);
    }

    [Fact]
    public void A_renamed_column_is_refused_naming_it()
    {
        var renamed = Rewrite("renamed.csv", ["x0", "x1", "x2", "size", "label"]);
        CliRunner.Fail(["eval", run.Folder, "--data", renamed], $"{renamed}: lacks the column 'x3' that the features are made of (its columns: x0, x1, x2, size, label)");
    }

    [Fact]
    public void Labels_are_matched_to_the_run_s_classes_by_name()
    {
        // Only gamma rows: a file whose own sorted classes would be just "gamma", class 0, which the run calls alpha.
        var gamma = Rewrite("gamma.csv", ["x0", "x1", "x2", "x3", "label"], f => f[4] == "gamma");
        var result = CliRunner.Succeed("eval", run.Folder, "--data", gamma);
        Assert.True(Accuracy(result) >= 0.9, result.Output);

        var path = _temp.File("gamma-predictions.csv");
        var lines = Predictions(CliRunner.Succeed("predict", run.Folder, "--data", gamma, "--output", path), path);
        Assert.Equal("index,target,predicted,probability,p_alpha,p_beta,p_gamma", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.Equal("gamma", l.Split(',')[1]));
    }

    [Fact]
    public void A_label_the_run_never_saw_is_refused_with_its_line()
    {
        var path = Rewrite("delta.csv", ["x0", "x1", "x2", "x3", "label"]);
        var lines = File.ReadAllLines(path);
        lines[3] = lines[3][..lines[3].LastIndexOf(',')] + ",delta";
        File.WriteAllLines(path, lines);
        CliRunner.Fail(["eval", run.Folder, "--data", path], $"{path}: line 4: label 'delta' in column 'label' is not one of the 3 classes (alpha, beta, gamma)");
    }

    [Fact]
    public void A_table_without_the_label_column_is_predicted_row_by_row_but_not_evaluated()
    {
        var unlabelled = Rewrite("unlabelled.csv", ["x0", "x1", "x2", "x3"]);
        var path = _temp.File("unlabelled-predictions.csv");
        var lines = Predictions(CliRunner.Succeed("predict", run.Folder, "--data", unlabelled, "--output", path), path);
        Assert.Equal("index,predicted,probability,p_alpha,p_beta,p_gamma", lines[0]);
        Assert.Equal(Enumerable.Range(0, 90).Select(i => i.ToString(CultureInfo.InvariantCulture)), lines.Skip(1).Select(l => l.Split(',')[0]));
        // The blobs rows cycle alpha, beta, gamma: a good model predicts them so.
        var expected = new[] { "alpha", "beta", "gamma" };
        Assert.True(lines.Skip(1).Count(l => l.Split(',')[1] == expected[int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture) % 3]) >= 81);

        CliRunner.Fail(["eval", run.Folder, "--data", unlabelled], $"{unlabelled} has no column 'label' (the run's --target): evaluating needs the labels; loom predict predicts without them");
    }

    [Fact]
    public void The_run_s_own_data_named_again_keeps_its_test_split()
    {
        var own = CliRunner.Succeed("eval", run.Folder);
        var named = CliRunner.Succeed("eval", run.Folder, "--data", run.Csv);
        Assert.Equal(Accuracy(own), Accuracy(named));
        Assert.Contains(named.Lines, l => l.StartsWith($"note: --data {run.Csv} is the data the run was trained on: its test split is used", StringComparison.Ordinal));
        Assert.Contains(own.Lines, l => l.Contains("│ samples", StringComparison.Ordinal) && l.Contains("18", StringComparison.Ordinal));
    }

    [Fact]
    public void Images_for_a_table_model_are_refused_as_the_wrong_kind_of_data()
    {
        var images = TestData.ImageFolder(_temp.Path);
        CliRunner.Fail(["eval", run.Folder, "--data", images], $"--data {images} is images, but the run was trained on a CSV table: give it data like its training data");
    }

    [Fact]
    public void Test_indices_of_the_run_s_own_data_are_its_rows()
    {
        var path = _temp.File("own-predictions.csv");
        var lines = Predictions(CliRunner.Succeed("predict", run.Folder, "--output", path), path);
        var csv = File.ReadAllLines(run.Csv);
        // Each predicted row's target is the label of the CSV row its index names.
        Assert.Equal(18, lines.Length - 1);
        Assert.All(lines.Skip(1), l => Assert.Equal(csv[1 + int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)].Split(',')[4], l.Split(',')[1]));
    }
}
