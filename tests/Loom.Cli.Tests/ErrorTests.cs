namespace Loom.Cli.Tests;

/// <summary>A mistake in the request is one line starting "error:" and exit code 1, never a stack trace.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static void AssertOneErrorLine(CliResult result, params string[] fragments)
    {
        Assert.True(result.ExitCode == 1, $"expected exit code 1: {result}");
        var error = Assert.Single(result.ErrorLines);
        foreach (var f in fragments) Assert.Contains(f, error);
        Assert.DoesNotContain("   at ", result.Output);
        Assert.DoesNotContain("Exception", result.Output);
    }

    private string Csv(string name, string text)
    {
        var path = _temp.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void An_unknown_option_is_one_error_line()
    {
        var result = CliRunner.Run("train", "--bogus");
        AssertOneErrorLine(result, "--bogus");
        Assert.Contains(result.Lines, l => l.Contains("--help", StringComparison.Ordinal));
    }

    [Fact]
    public void An_option_value_of_the_wrong_type_is_one_error_line() =>
        AssertOneErrorLine(CliRunner.Run("train", "--epochs", "three"), "three");

    [Theory]
    [InlineData("--epochs", "0", "--epochs must be at least 1")]
    [InlineData("--lr", "-1", "--lr must be a positive number")]
    [InlineData("--model", "resnet", "--model must be one of")]
    [InlineData("--schedule", "sometimes", "--schedule must be one of")]
    [InlineData("--image-size", "28by28", "--image-size expects HEIGHTxWIDTH")]
    public void An_invalid_option_value_is_one_error_line_naming_the_option(string option, string value, string message) =>
        AssertOneErrorLine(CliRunner.Run("train", option, value, "--output", _temp.Path), message);

    [Fact]
    public void An_image_model_on_a_table_is_one_error_line_naming_the_model_that_fits()
    {
        var csv = TestData.BlobsCsv(_temp.Path);
        AssertOneErrorLine(CliRunner.Run("train", "--data", csv, "--target", "label", "--model", "cnn", "--output", _temp.Path),
            $"--model cnn does not fit a CSV table ({csv}); classification of a CSV table uses mlp");
    }

    [Fact]
    public void An_unknown_task_is_one_error_line() =>
        AssertOneErrorLine(CliRunner.Run("train", "--task", "poetry", "--output", _temp.Path), "--task must be one of language-model, classification; got 'poetry'");

    [Fact]
    public void A_task_option_of_the_wrong_type_is_one_error_line() =>
        AssertOneErrorLine(CliRunner.Run("train", "--hidden", "wide", "--output", _temp.Path), "--hidden expects a whole number, got 'wide'");

    [Fact]
    public void A_missing_data_file_is_one_error_line_naming_it()
    {
        var missing = _temp.File("no-such-file-with-a-rather-long-name-so-the-message-is-wider-than-eighty-columns.csv");
        AssertOneErrorLine(CliRunner.Run("train", "--data", missing, "--target", "y", "--output", _temp.Path), missing, "no such built-in dataset, file or folder");
    }

    [Fact]
    public void A_csv_without_target_asks_for_one() =>
        AssertOneErrorLine(CliRunner.Run("train", "--data", TestData.BlobsCsv(_temp.Path), "--output", _temp.Path), "--target");

    [Fact]
    public void A_target_that_is_not_a_column_is_one_error_line_listing_the_columns() =>
        AssertOneErrorLine(CliRunner.Run("train", "--data", TestData.BlobsCsv(_temp.Path), "--target", "species", "--output", _temp.Path),
            "--target species", "x0, x1, x2, x3, label");

    [Fact]
    public void A_csv_with_ragged_rows_is_one_error_line_naming_the_line()
    {
        var path = Csv("ragged.csv", "a,b,label\n1,2,x\n3,4,y\n5,y\n7,8,x\n");
        AssertOneErrorLine(CliRunner.Run("train", "--data", path, "--target", "label", "--output", _temp.Path), "ragged.csv", "line 4 has 2 fields");
    }

    [Fact]
    public void A_csv_with_missing_values_is_one_error_line()
    {
        var path = Csv("holes.csv", "a,b,label\n1,2,x\n3,,y\n5,6,y\n7,8,x\n");
        AssertOneErrorLine(CliRunner.Run("train", "--data", path, "--target", "label", "--output", _temp.Path), "holes.csv", "missing", "'b'");
    }

    [Fact]
    public void An_unreadable_image_in_an_image_folder_is_one_error_line_naming_it()
    {
        var root = TestData.ImageFolder(_temp.Path);
        var broken = Path.Combine(root, "light", "broken.png");
        File.WriteAllText(broken, "this is not a PNG");
        AssertOneErrorLine(CliRunner.Run("train", "--data", root, "--model", "mlp", "--image-size", "8x8", "--output", _temp.Path), "broken.png");
    }

    [Fact]
    public void An_image_folder_with_one_class_is_one_error_line()
    {
        var root = TestData.ImageFolder(_temp.Path);
        Directory.Delete(Path.Combine(root, "dark"), recursive: true);
        AssertOneErrorLine(CliRunner.Run("train", "--data", root, "--model", "mlp", "--output", _temp.Path), "at least two class");
    }

    [Fact]
    public void Eval_of_a_folder_that_is_not_a_run_is_one_error_line()
    {
        AssertOneErrorLine(CliRunner.Run("eval", _temp.Path), "not a Loom run folder");
        AssertOneErrorLine(CliRunner.Run("predict", _temp.File("nowhere")), "does not exist");
    }

    [Fact]
    public void Resuming_a_run_without_a_checkpoint_is_one_error_line()
    {
        File.WriteAllText(_temp.File("config.json"), new Models.TrainingConfig { Model = "mlp" }.WithTaskOptions(new Models.ClassificationOptions { Hidden = 8 }).ToJson());
        AssertOneErrorLine(CliRunner.Run("train", "--resume", _temp.Path), "no checkpoint");
    }

    [Fact]
    public void Resuming_from_a_corrupt_checkpoint_is_one_error_line()
    {
        File.WriteAllText(_temp.File("config.json"), new Models.TrainingConfig { Model = "mlp" }.WithTaskOptions(new Models.ClassificationOptions { Hidden = 8 }).ToJson());
        File.WriteAllBytes(_temp.File("last.ckpt"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        AssertOneErrorLine(CliRunner.Run("train", "--resume", _temp.Path), "last.ckpt");
    }

    [Fact]
    public void Cv_with_one_fold_is_one_error_line() =>
        AssertOneErrorLine(CliRunner.Run("cv", "--folds", "1", "--output", _temp.Path), "--folds must be at least 2");
}
