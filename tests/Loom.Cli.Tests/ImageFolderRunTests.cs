namespace Loom.Cli.Tests;

/// <summary>
/// Image folders through `loom train`, `eval` and `predict`: a folder already split into train/, val/ and test/ trains
/// on those splits (not on "train" and "test" as two classes), and new image data is labelled with the run's classes by
/// folder name.
/// </summary>
public sealed class ImageFolderRunTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Train(string data, string model = "mlp", params string[] extra)
    {
        var output = _temp.File("runs");
        CliRunner.Succeed(["train", "--data", data, "--model", model, "--hidden", "8", "--epochs", "2", "--image-size", "8x8", "--batch-size", "4", .. extra, "--output", output]);
        return CliRunner.RunFolderUnder(output);
    }

    [Fact]
    public void A_folder_split_into_train_and_test_uses_test_as_the_test_split()
    {
        var root = _temp.File("split");
        TestData.ImageFolder(root, perClass: 8, name: "train");
        TestData.ImageFolder(root, perClass: 3, name: "test");

        var folder = Train(root);

        var test = Assert.Single(TestData.Metrics(folder), l => (string?)l["kind"] == "test");
        Assert.Equal(6, (int)test["samples"]!); // all of test/, both classes
        var report = File.ReadAllText(Path.Combine(folder, "report.md"));
        Assert.Contains("| dark | ", report);
        Assert.Contains("16 in train/ + 6 in test/", report);
    }

    [Fact]
    public void A_val_folder_is_the_validation_split()
    {
        var root = _temp.File("split");
        TestData.ImageFolder(root, perClass: 8, name: "train");
        TestData.ImageFolder(root, perClass: 2, name: "val");

        var folder = Train(root, extra: ["--val-fraction", "0.5"]);

        var result = TestData.Metrics(folder);
        // No test/: 3 of train/'s 16 images are the test split. val/ validates, so --val-fraction takes nothing from the
        // other 13, which train in 4 batches of up to 4 (half of them held out would make 2).
        Assert.Equal(3, (int)result.Single(l => (string?)l["kind"] == "test")["samples"]!);
        var epoch = result.First(l => (string?)l["kind"] == "epoch");
        Assert.NotNull(epoch["val_loss"]);
        Assert.Equal(4, (int)epoch["step"]!);
    }

    [Fact]
    public void New_images_are_labelled_with_the_run_s_classes_by_folder_name()
    {
        var folder = Train(TestData.ImageFolder(_temp.Path, perClass: 10));
        // Only light images: sorted on its own, this folder's one class would be class 0, which the run calls dark.
        var light = TestData.ImageFolder(_temp.Path, perClass: 4, name: "only-light", classes: ["light"]);
        var path = _temp.File("light-predictions.csv");
        CliRunner.Succeed("predict", folder, "--data", light, "--output", path);

        var lines = File.ReadAllLines(path);
        Assert.Equal("index,target,predicted,probability,p_dark,p_light", lines[0]);
        Assert.Equal(4, lines.Length - 1);
        Assert.All(lines.Skip(1), l => Assert.Equal("light", l.Split(',')[1]));
    }

    [Fact]
    public void Single_images_and_a_folder_without_class_folders_are_predicted_keyed_by_file()
    {
        var folder = Train(TestData.ImageFolder(_temp.Path, perClass: 10));
        var labelled = TestData.ImageFolder(_temp.Path, perClass: 3, name: "new");
        var loose = Directory.CreateDirectory(_temp.File("loose")).FullName;
        foreach (var c in new[] { "dark", "light" })
            foreach (var f in Directory.GetFiles(Path.Combine(labelled, c)))
                File.Copy(f, Path.Combine(loose, $"{c}-{Path.GetFileName(f)}"));
        File.WriteAllText(Path.Combine(loose, "notes.txt"), "not an image");
        var byFolder = _temp.File("by-folder.csv");
        CliRunner.Succeed("predict", folder, "--data", labelled, "--output", byFolder);
        // The same images through the class folders: the same probabilities, whichever way they are given.
        var expected = File.ReadAllLines(byFolder).Skip(1).Select(l => string.Join(',', l.Split(',').Skip(2))).ToArray();

        var lines = CliRunner.Succeed("predict", folder, loose).Output.Trim().Split('\n');
        Assert.Equal("file,predicted,probability,p_dark,p_light", lines[0]);
        string[] files = [.. Directory.GetFiles(loose, "*.png").Order(StringComparer.Ordinal)];
        Assert.Equal(files, lines.Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal(expected, lines.Skip(1).Select(l => string.Join(',', l.Split(',').Skip(1))));

        var one = CliRunner.Succeed("predict", folder, files[4]).Output.Trim().Split('\n');
        Assert.Equal(lines[0], one[0]);
        Assert.Equal(lines[5], Assert.Single(one.Skip(1)));
    }

    [Fact]
    public void A_corrupt_image_given_to_predict_is_named_and_one_image_is_not_training_data()
    {
        var folder = Train(TestData.ImageFolder(_temp.Path, perClass: 10));
        var broken = _temp.File("broken.png");
        File.WriteAllBytes(broken, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        CliRunner.Fail(["predict", folder, broken], "broken.png", "not a decodable image");
        var image = Directory.GetFiles(Path.Combine(TestData.ImageFolder(_temp.Path, perClass: 1, name: "one"), "dark"))[0];
        CliRunner.Fail(["train", "--data", image, "--task", "classification", "--output", _temp.File("runs2")], "unsupported file type");
    }

    [Fact]
    public void A_class_folder_the_run_never_saw_is_refused()
    {
        var folder = Train(TestData.ImageFolder(_temp.Path, perClass: 10));
        var other = TestData.ImageFolder(_temp.Path, perClass: 2, name: "other");
        Directory.Move(Path.Combine(other, "light"), Path.Combine(other, "grey"));
        CliRunner.Fail(["eval", folder, "--data", other], "'grey'", "is not a class of the 2 given (dark, light)");
    }

    [Fact]
    public void A_table_for_an_image_model_names_the_run_s_model_not_a_model_option()
    {
        var folder = Train(TestData.ImageFolder(_temp.Path, perClass: 10), model: "cnn");
        var csv = TestData.BlobsCsv(_temp.Path);
        var message = CliRunner.Fail(["eval", folder, "--data", csv], $"--data {csv} is a CSV table, but the run's model (cnn) takes images: give it data like its training data");
        Assert.DoesNotContain("--model", message);
    }
}
