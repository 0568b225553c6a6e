namespace Loom.Cli.Tests;

/// <summary>
/// `loom quantize RUN` writes a new run folder with int8 linear layers that eval and predict take like any run; a
/// quantised run is not quantised again, an occupied --out is refused, and a float checkpoint put in a quantised run's
/// place is one error line naming the file.
/// </summary>
public sealed class QuantizeCommandTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Quantised_run_is_int8_on_disk_and_eval_and_predict_take_it()
    {
        var target = _temp.File("q");
        var result = CliRunner.Succeed("quantize", run.Folder, "--out", target, "--threads", "1");
        Assert.Contains("bytes on disk", result.Output);
        Assert.Contains("accuracy", result.Output);
        Assert.Equal("dynamic-int8", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(target, "config.json")))!["quantization"]);
        var tensors = SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors;
        Assert.Equal(DType.Int8, tensors["1.weight"].DType);
        Assert.Equal(DType.Float32, tensors["1.weight_scale"].DType);
        Assert.True(File.Exists(Path.Combine(target, "report.md")));

        Assert.Contains("accuracy", CliRunner.Succeed("eval", target, "--threads", "1").Output);
        CliRunner.Succeed("predict", target, "--threads", "1", "--output", _temp.File("predictions.csv"));

        CliRunner.Fail(["quantize", target], "already quantised (dynamic-int8)");
        CliRunner.Fail(["quantize", run.Folder, "--out", target], "already exists and is not empty", "--out");
    }

    [Fact]
    public void A_float_checkpoint_in_a_quantised_run_is_one_error_line()
    {
        var target = _temp.File("q");
        CliRunner.Succeed("quantize", run.Folder, "--out", target, "--threads", "1");
        File.Copy(Path.Combine(run.Folder, "model.safetensors"), Path.Combine(target, "model.safetensors"), overwrite: true);
        CliRunner.Fail(["eval", target], "model.safetensors", "'1.weight' is float32", "quantised model holds int8");
    }

    [Fact]
    public void The_table_says_slower_and_larger_when_the_compressed_model_is()
    {
        var metrics = new Dictionary<string, double>();
        var rows = Commands.CompressedRun.Rows(new(0.5, metrics, 1000, 2.0, 5.1), new(0.5, metrics, 4000, 1.0, 7.9)).ToDictionary(r => r.Name, r => r.Change);
        Assert.Equal("4.00× larger", rows["bytes on disk"]);
        Assert.Equal("2.00× faster", rows["batch-1 latency (ms)"]);
        Assert.Equal("1.55× slower", rows["batch-64 latency (ms)"]); // was "0.65× faster"
    }
}

/// <summary>`loom quantize` of a bilstm text classifier: the LSTM's W_ih and W_hh of both directions become int8 in place.</summary>
public sealed class RecurrentQuantizeCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Bilstm_run_quantises_its_lstm_and_predict_takes_it()
    {
        var data = TextClassificationCommandTests.WriteReviews(_temp.File("reviews.csv"));
        CliRunner.Succeed("train", "--data", data, "--text-column", "text", "--target", "label", "--model", "bilstm", "--quick", "--epochs", "2",
            "--val-fraction", "0", "--threads", "1", "--output", _temp.File("runs"));
        var target = _temp.File("q");
        CliRunner.Succeed("quantize", CliRunner.RunFolderUnder(_temp.File("runs")), "--out", target, "--threads", "1");
        var tensors = SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors;
        var recurrent = tensors.Keys.Where(k => k.Contains("weight_ih_l0") || k.Contains("weight_hh_l0")).Where(k => !k.EndsWith("_scale") && !k.EndsWith("_zero_point")).ToList();
        Assert.Equal(4, recurrent.Count); // W_ih and W_hh, forward and reverse
        Assert.All(recurrent, k => Assert.Equal(DType.Int8, tensors[k].DType));
        var result = CliRunner.Succeed("predict", target, "--text", "the film was superb , and the cast was great");
        Assert.Single(result.Lines);
    }
}

/// <summary>
/// `loom quantize RUN --calibrate N --method M`: static int8 of a CNN run (batch norm folded, convolutions int8), a
/// folder eval and predict take; the options' misuse is one error line.
/// </summary>
public sealed class StaticQuantizeCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Static_int8_cnn_run_holds_int8_convolutions_and_eval_takes_it()
    {
        CliRunner.Succeed("train", "--model", "cnn", "--max-steps", "3", "--threads", "1", "--output", _temp.Path);
        var source = CliRunner.RunFolderUnder(_temp.Path);
        var target = _temp.File("static");
        var result = CliRunner.Succeed("quantize", source, "--calibrate", "100", "--method", "entropy", "--out", target, "--threads", "1");
        Assert.Contains("static int8 (entropy calibration on 100 samples)", result.Output);
        Assert.Contains("batch-64 latency", result.Output);
        Assert.Equal("static-int8", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(target, "config.json")))!["quantization"]);
        var tensors = SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors;
        Assert.Equal(DType.Int8, tensors["0.weight"].DType);          // the first convolution
        Assert.Equal(4, tensors["0.weight"].Rank);
        Assert.True(tensors.ContainsKey("0.output_scale"));           // requantised for the second convolution
        Assert.False(tensors.ContainsKey("1.running_mean"));          // batch norm folded away
        Assert.Contains("accuracy", CliRunner.Succeed("eval", target, "--threads", "1").Output);

        CliRunner.Fail(["quantize", source, "--method", "entropy"], "--method", "--calibrate N");
        CliRunner.Fail(["quantize", source, "--calibrate", "10", "--method", "kl"], "--method must be minmax, percentile or entropy", "'kl'");
        CliRunner.Fail(["quantize", source, "--calibrate", "0"], "--calibrate must be at least 1");
    }
}

/// <summary>
/// `loom quantize RUN --qat --epochs N`: quantisation-aware fine-tuning of a CNN run, converted to the static int8
/// format (so eval takes it like a calibrated run); misuse of the options is one error line.
/// </summary>
public sealed class QatQuantizeCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Qat_cnn_run_is_written_in_the_static_int8_format_and_eval_takes_it()
    {
        CliRunner.Succeed("train", "--model", "cnn", "--max-steps", "3", "--threads", "1", "--output", _temp.Path);
        var source = CliRunner.RunFolderUnder(_temp.Path);
        var target = _temp.File("qat");
        var result = CliRunner.Succeed("quantize", source, "--qat", "--epochs", "1", "--out", target, "--threads", "1");
        Assert.Contains("static int8 (QAT, 1 epoch)", result.Output);
        Assert.Equal("static-int8", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(target, "config.json")))!["quantization"]);
        var tensors = SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors;
        Assert.Equal(DType.Int8, tensors["0.weight"].DType);
        Assert.DoesNotContain(tensors.Keys, k => k.Contains("input_quantizer", StringComparison.Ordinal)); // converted, not the training form
        Assert.Contains("accuracy", CliRunner.Succeed("eval", target, "--threads", "1").Output);

        CliRunner.Fail(["quantize", source, "--qat", "--calibrate", "10"], "--qat", "leave out --calibrate");
        CliRunner.Fail(["quantize", source, "--epochs", "2"], "--epochs", "give --qat");
        CliRunner.Fail(["quantize", source, "--qat", "--epochs", "0"], "--epochs must be at least 1");
    }
}
