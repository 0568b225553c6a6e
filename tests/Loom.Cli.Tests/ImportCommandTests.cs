using Loom.Nn;
using Loom.Onnx;

namespace Loom.Cli.Tests;

/// <summary>
/// `loom import FILE --out RUN --data DATA` makes an imported network a run folder: eval and predict take it, `train
/// --resume` fine-tunes its new head from epoch 0 (the test loss falls), and `export` writes it back to ONNX.
/// </summary>
public sealed class ImportCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static double Loss(string evalOutput) =>
        double.Parse(Regex.Match(evalOutput, @"loss\D*?([0-9]+\.[0-9]+)").Groups[1].Value, CultureInfo.InvariantCulture);

    [Fact]
    public void An_import_that_fails_on_its_inputs_leaves_no_run_folder()
    {
        // An 8×8 pooling window: the network cannot run on 4×4 inputs, which only building the run finds out, after
        // model.onnx and summary.txt were written (ResNet18.onnx with --input 3,32,32 left that half folder).
        var network = new Sequential(new Conv2d(1, 2, 3, padding: 1), new MaxPool2d(8), new Flatten());
        string onnx = _temp.File("pooled.onnx");
        OnnxExport.Save(network, Tensor.Randn(2, 1, 8, 8), onnx);
        string run = _temp.File("run");
        CliRunner.Fail(["import", onnx, "--out", run, "--data", "digits", "--input", "1,4,4"], "--input");
        Assert.False(Directory.Exists(run), "the failed import left " + string.Join(", ", Directory.Exists(run) ? Directory.GetFiles(run) : []));
        // A folder holding only the model being imported keeps the model, and only it.
        string beside = Directory.CreateDirectory(_temp.File("beside")).FullName, model = Path.Combine(beside, "model.onnx");
        File.Copy(onnx, model);
        CliRunner.Fail(["import", model, "--out", beside, "--data", "digits", "--input", "1,4,4"], "--input");
        Assert.Equal([model], Directory.GetFileSystemEntries(beside));
    }

    [Fact]
    public void Imported_network_evaluates_predicts_fine_tunes_and_exports()
    {
        // A small convolutional feature extractor for 8×8 digits, as another framework would ship it.
        Loom.Random.Generator.ManualSeed(3);
        var network = new Sequential(new Conv2d(1, 6, 3, padding: 1), new ReLU(), new MaxPool2d(2), new Flatten());
        string onnx = _temp.File("features.onnx");
        OnnxExport.Save(network, Tensor.Randn(2, 1, 8, 8), onnx);
        string run = _temp.File("run");

        var imported = CliRunner.Succeed("import", onnx, "--out", run, "--data", "digits", "--epochs", "2");
        // Never into a folder that holds anything: a second import would replace this run's files.
        var files = TestData.Snapshot(run);
        CliRunner.Fail(["import", onnx, "--out", run, "--data", "digits"], $"'{run}' already exists and is not empty; give another folder with --out");
        Assert.Equal(files, TestData.Snapshot(run));
        // …except for the model itself: a folder holding only the file being imported becomes its run folder.
        string beside = Directory.CreateDirectory(_temp.File("beside")).FullName, model = Path.Combine(beside, "model.onnx");
        File.Copy(onnx, model);
        CliRunner.Succeed("import", model, "--out", beside, "--data", "digits");
        Assert.True(File.Exists(Path.Combine(beside, "config.json")));
        Assert.Contains("(970 trained by loom train --resume", imported.Output); // the head: 96 features × 10 classes + 10
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        Assert.Equal("onnx", (string?)config["model"]);
        Assert.Equal(Path.Combine(Path.GetFullPath(run), "model.onnx"), (string?)config["onnx_model"]);

        double before = Loss(CliRunner.Succeed("eval", run, "--threads", "1").Output);
        CliRunner.Succeed("predict", run, "--threads", "1", "--output", _temp.File("before.csv"));
        CliRunner.Succeed("train", "--resume", run, "--threads", "1");
        double after = Loss(CliRunner.Succeed("eval", run, "--threads", "1").Output);
        Assert.True(after < before - 0.1, $"test loss {before} before fine-tuning, {after} after");

        string exported = _temp.File("exported.onnx");
        CliRunner.Succeed("export", run, "--onnx", exported, "--threads", "1");
        var fineTuned = Loom.Models.Pipeline.Load(new Loom.Train.RunFolder(run)).Model;
        var x = Tensor.Rand(new Shape(3, 1, 8, 8)).Mul(16);
        using (new Loom.Autograd.NoGrad())
        {
            var expected = fineTuned.Forward(x);
            var roundTrip = OnnxModule.Load(exported).Forward(x);
            Assert.Equal([3, 10], roundTrip.Shape.ToArray());
            Assert.True(roundTrip.Sub(expected).Abs().Max().Item<float>() < 1e-4, "the exported file computes another function than the fine-tuned run");
        }
    }
}
