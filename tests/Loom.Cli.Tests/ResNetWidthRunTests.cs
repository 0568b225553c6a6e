namespace Loom.Cli.Tests;

/// <summary>
/// `loom train --model resnet-mini --width W`: the narrower network is what the run trains and saves, config.json keeps
/// the width so that --resume and eval rebuild the same network, and a width it cannot take is one error line.
/// </summary>
public sealed class ResNetWidthRunTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static Shape Stem(string folder) => SafeTensors.Load(Path.Combine(folder, "model.safetensors")).Tensors["conv1.weight"].Shape;

    [Fact]
    public void The_width_is_trained_recorded_and_kept_by_resume()
    {
        var data = TestData.ImageFolder(_temp.Path, perClass: 8);
        var output = _temp.File("runs");
        CliRunner.Succeed("train", "--data", data, "--model", "resnet-mini", "--width", "0.25", "--epochs", "1", "--image-size", "8x8",
            "--batch-size", "4", "--threads", "1", "--output", output);
        var folder = CliRunner.RunFolderUnder(output);
        // 16·0.25 = 4 stem channels, against 16 at the default width.
        Assert.Equal(new Shape(4, 1, 3, 3), Stem(folder));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.Equal(0.25, (double)config["width"]!);

        CliRunner.Succeed("train", "--resume", folder, "--epochs", "2", "--threads", "1");
        Assert.Equal(2, TestData.Metrics(folder).Count(l => (string?)l["kind"] == "epoch"));
        Assert.Equal(new Shape(4, 1, 3, 3), Stem(folder));
        Assert.Contains("accuracy", CliRunner.Succeed("eval", folder, "--threads", "1").Output);
    }

    [Fact]
    public void A_bad_width_or_one_for_a_fixed_model_is_one_error_line()
    {
        var data = TestData.ImageFolder(_temp.Path);
        CliRunner.Fail(["train", "--data", data, "--model", "resnet-mini", "--width", "0", "--image-size", "8x8", "--output", _temp.File("runs")],
            "--width must be in (0, 8], got 0");
        CliRunner.Fail(["train", "--data", data, "--model", "resnet18", "--width", "0.5", "--image-size", "32x32", "--output", _temp.File("runs")],
            "--width scales the cnn and resnet-mini only; model 'resnet18' has its own sizes");
        Assert.False(Directory.Exists(_temp.File("runs")) && Directory.EnumerateFileSystemEntries(_temp.File("runs")).Any());
    }
}
