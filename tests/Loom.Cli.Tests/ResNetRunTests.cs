namespace Loom.Cli.Tests;

/// <summary>The ResNet pipeline end to end on a tiny image folder: train with augmentation and label smoothing, then eval.</summary>
public sealed class ResNetRunTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Resnet_mini_trains_with_augmentation_and_label_smoothing_and_its_run_evaluates()
    {
        var images = TestData.ImageFolder(_temp.Path, perClass: 10);
        var output = _temp.File("runs");
        CliRunner.Succeed("train", "--data", images, "--model", "resnet-mini", "--image-size", "8x8", "--epochs", "2", "--batch-size", "4",
            "--augment", "crop,flip,erase", "--label-smoothing", "0.1", "--optimizer", "sgd", "--lr", "0.05", "--schedule", "onecycle", "--output", output);
        var folder = CliRunner.RunFolderUnder(output);

        var config = TrainingConfig.FromJson(File.ReadAllText(Path.Combine(folder, "config.json")), "config.json");
        var options = config.GetTaskOptions<ClassificationOptions>();
        Assert.Equal(["crop", "flip", "erase"], options.Augment!);
        Assert.Equal(0.1, options.LabelSmoothing);
        Assert.Equal(2, TestData.Metrics(folder).Count(l => (string?)l["kind"] == "epoch"));
        // The run reloads as a ResNet (weights by torchvision's names) and evaluates its 4 test images.
        Assert.Contains("samples", CliRunner.Succeed("eval", folder).Output);
    }

    [Fact]
    public void Augmenting_a_table_is_refused_in_one_line()
    {
        var csv = TestData.BlobsCsv(_temp.Path);
        CliRunner.Fail(["train", "--data", csv, "--target", "label", "--augment", "crop", "--output", _temp.File("runs")], "--augment crop", "table");
        CliRunner.Fail(["train", "--augment", "rotate", "--output", _temp.File("runs")], "--augment", "rotate");
    }
}
