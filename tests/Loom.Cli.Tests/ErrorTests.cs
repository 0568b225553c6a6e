namespace Loom.Cli.Tests;

/// <summary>A mistake in the request is one line starting "error:" and exit code 1, never a stack trace.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static void AssertOneErrorLine(CliResult result, params string[] fragments) => CliRunner.AssertOneErrorLine(result, fragments);

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
        AssertOneErrorLine(result, "--bogus", "run loom train --help for the options");
        Assert.Empty(result.Output);
        // A sub-command's hint names its whole path.
        var missing = CliRunner.AssertOneErrorLine(CliRunner.Run("faces", "verify"), "error: Required argument missing for command: 'verify'; run loom faces verify --help for the options");
        Assert.Single(Regex.Matches(missing, "Required argument missing")); // said once, not once per missing argument
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
    [InlineData("--max-steps", "0", "--max-steps must be at least 1, got 0")] // took one step
    [InlineData("--max-steps", "-1", "--max-steps must be at least 1, got -1")] // "(Parameter 'MaxSteps'); Actual value was -1"
    [InlineData("--seed", "-1", "--seed expects a whole number from 0 to 18446744073709551615, got '-1'")] // "as expected type 'System.UInt64'"
    [InlineData("--lr", "fast", "--lr expects a number (such as 0.5 or 1e-3), got 'fast'")]
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
        AssertOneErrorLine(CliRunner.Run("train", "--task", "poetry", "--output", _temp.Path), "--task must be one of detection, face-verification, keyword-spotting, translation, summarization, language-model, text-classification, classification; got 'poetry'");

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
    public void An_image_folder_whose_second_class_has_no_images_is_one_error_line()
    {
        var root = TestData.ImageFolder(_temp.Path);
        foreach (var image in Directory.GetFiles(Path.Combine(root, "light"))) File.Delete(image);
        AssertOneErrorLine(CliRunner.Run("train", "--data", root, "--model", "mlp", "--output", _temp.File("runs")),
            "only the class folder 'dark' holds images; a classification needs at least two classes");
        AssertNoRunFolder(_temp.File("runs"));
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

    [Fact]
    public void Errors_go_to_standard_error_and_nothing_to_standard_output()
    {
        var result = CliRunner.Run("train", "--epochs", "0", "--output", _temp.Path);
        AssertOneErrorLine(result, "--epochs must be at least 1, got 0");
        Assert.Equal("", result.Output);
    }

    /// <summary>No run folder under --output: a run that failed before its first checkpoint leaves nothing behind.</summary>
    private void AssertNoRunFolder(string output) =>
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any(), $"{output} holds {string.Join(", ", Directory.Exists(output) ? Directory.GetFileSystemEntries(output) : [])}");

    [Fact]
    public void A_table_of_one_class_is_refused_naming_the_column_and_the_class()
    {
        var path = Csv("one-class.csv", "a,b,label\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"{i},{i % 3},yes\n")));
        var output = _temp.File("runs");
        AssertOneErrorLine(CliRunner.Run("train", "--data", path, "--target", "label", "--output", output),
            $"{path}: the target column 'label' holds one class ('yes') in all 20 rows; a classification needs at least two classes");
        AssertNoRunFolder(output);
    }

    [Fact]
    public void A_table_too_small_for_a_test_split_is_refused_before_training()
    {
        var path = Csv("tiny.csv", "a,label\n1,x\n2,y\n");
        var output = _temp.File("runs");
        AssertOneErrorLine(CliRunner.Run("train", "--data", path, "--target", "label", "--output", output), $"{path}: 2 rows are too few: the 20% test split would be empty");
        AssertNoRunFolder(output);
    }

    [Fact]
    public void A_validation_fraction_that_holds_out_nothing_is_refused_before_training()
    {
        // Five rows: one for the test split, four for training, of which 10% rounds to none.
        var path = Csv("small.csv", "a,label\n1,x\n2,y\n3,x\n4,y\n5,x\n");
        var output = _temp.File("runs");
        AssertOneErrorLine(CliRunner.Run("train", "--data", path, "--target", "label", "--output", output),
            "--val-fraction 0.1 of 4 training samples holds out none for validation; give more data, a larger fraction, or --val-fraction 0");
        AssertNoRunFolder(output);
    }

    [Fact]
    public void A_run_that_fails_after_its_folder_was_made_leaves_no_folder()
    {
        // The data is read only once the run folder exists: a column that is mostly numbers with a word in it fails then.
        var path = Csv("typo.csv", "a,label\n" + string.Concat(Enumerable.Range(0, 30).Select(i => $"{(i == 7 ? "seven" : i.ToString())},{(i % 2 == 0 ? "x" : "y")}\n")));
        var output = _temp.File("runs");
        AssertOneErrorLine(CliRunner.Run("train", "--data", path, "--target", "label", "--output", output), "typo.csv", "'a'");
        AssertNoRunFolder(output);
    }

    [Fact]
    public void A_column_named_in_categorical_or_ignore_must_exist()
    {
        var csv = TestData.BlobsCsv(_temp.Path);
        AssertOneErrorLine(CliRunner.Run("train", "--data", csv, "--target", "label", "--categorical", "x1,zip", "--output", _temp.File("runs")),
            $"--categorical zip: {csv} has no such column (columns: x0, x1, x2, x3, label)");
        AssertOneErrorLine(CliRunner.Run("train", "--data", csv, "--target", "label", "--ignore", "id", "--output", _temp.File("runs")),
            $"--ignore id: {csv} has no such column");
        AssertOneErrorLine(CliRunner.Run("train", "--data", csv, "--target", "label", "--ignore", "x0,label", "--output", _temp.File("runs")),
            "--ignore label: that is the --target column");
        AssertNoRunFolder(_temp.File("runs"));
    }
}
