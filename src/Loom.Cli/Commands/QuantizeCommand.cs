namespace Loom.Cli.Commands;

/// <summary>
/// `loom quantize RUN [--calibrate N [--method minmax|percentile|entropy]] [--out DIR]`: post-training int8
/// quantisation into a new run folder that `loom eval` and `loom predict` take like any other — dynamic (linear layers)
/// by default, static (convolutions and linear layers, calibrated activation ranges) with --calibrate; prints test
/// metrics, size on disk and batch-1/batch-64 latency before and after, and writes them to the new folder's report.md.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var output = new Option<string?>("--out") { Description = "the new run folder (default: RUN-int8 beside RUN)" };
        var calibrate = new Option<int?>("--calibrate")
        {
            Description = "static int8: calibrate the activation ranges on the first N training samples (convolutions and linear layers of a sequential model; batch norm folded first)",
        };
        var method = new Option<string?>("--method") { Description = "how calibration picks each range: minmax, percentile (99.99 %) or entropy (KL) [default: minmax]" };
        var qat = new Option<bool>("--qat")
        {
            Description = "static int8 by quantisation-aware training: fine-tune with fake-quantised weights and activations (the run's recipe at a tenth of its learning rate), then convert with the ranges training observed",
        };
        var qatEpochs = new Option<int>("--epochs") { Description = "with --qat: epochs of fine-tuning", DefaultValueFactory = _ => 1 };
        var run = new RunOptions(console, "evaluate before and after on this labelled data instead of the run's test split");
        var command = run.Command("quantize", "Quantise a trained run to int8 into a new run folder: dynamic (linear layers; activations per batch), or static with --calibrate N (convolutions and linear layers; fixed activation ranges) or --qat", output, calibrate, method, qat, qatEpochs);
        command.SetAction(parse =>
        {
            var source = run.Folder(parse);
            int? samples = parse.GetValue(calibrate);
            string? methodName = parse.GetValue(method);
            if (samples is null && methodName is not null) throw new UserErrorException("--method chooses how static quantisation calibrates: give --calibrate N with it");
            if (samples is < 1) throw new UserErrorException($"--calibrate must be at least 1 sample, got {samples}");
            bool aware = parse.GetValue(qat);
            int epochs = parse.GetValue(qatEpochs);
            if (aware && samples is not null) throw new UserErrorException("--qat finds the activation ranges while training: leave out --calibrate (and --method)");
            if (!aware && parse.GetResult(qatEpochs) is { Implicit: false }) throw new UserErrorException("--epochs is the fine-tuning of --qat: give --qat with it");
            if (epochs < 1) throw new UserErrorException($"--epochs must be at least 1, got {epochs}");
            var calibration = ParseMethod(methodName);
            var trained = run.Load(parse);
            if (trained.Config.Quantization is not null) throw new UserErrorException($"{source.Path} is already quantised ({trained.Config.Quantization})");
            var before = CompressedRun.Measure(trained, source.ModelPath);

            QuantizedModel quantized;
            string kind;
            if (aware)
            {
                if (trained.Model is not Sequential)
                    throw new UserErrorException($"--qat quantises sequential models (cnn, mlp, lenet5); the {trained.Config.Model} of {source.Path} is not one");
                quantized = QuantizationAwareTraining.Convert(FineTuneQuantizationAware(trained, source.ReadConfig(), epochs));
                kind = StaticQuantization.StaticInt8;
            }
            else if (samples is int n)
            {
                if (trained.Model is not Sequential sequential)
                    throw new UserErrorException($"static int8 quantises sequential models (cnn, mlp, lenet5); the {trained.Config.Model} of {source.Path} is not one: leave out --calibrate for dynamic int8");
                var batches = CalibrationBatches(trained, n);
                quantized = StaticQuantization.Quantize(sequential, batches, calibration);
                kind = StaticQuantization.StaticInt8;
            }
            else
            {
                quantized = Quantization.QuantizeDynamic(trained.Model);
                kind = Quantization.DynamicInt8;
            }
            if (quantized.Quantized.Count == 0)
                throw new UserErrorException($"the {trained.Config.Model} of {source.Path} has no linear, recurrent or attention weight that can be quantised" +
                    (quantized.LeftInFloat.Count > 0 ? $" ({string.Join(", ", quantized.LeftInFloat)} stay float32)" : ""));
            var target = CompressedRun.NewFolder(source, parse.GetValue(output), "int8");
            CompressedRun.CopyRunFiles(source, target);
            var config = source.ReadConfig();
            config["quantization"] = kind;
            target.WriteConfig(config);
            SafeTensors.Save(target.ModelPath, quantized.Model.StateDict());

            // Read back through the path eval and predict take, so what is reported is what they will see.
            var reloaded = Pipeline.Load(target, parse.GetValue(run.Data), threads: parse.GetValue(run.Threads));
            var after = CompressedRun.Measure(reloaded, target.ModelPath);

            var rows = CompressedRun.Rows(before, after);
            string how = aware ? $"static int8 (QAT, {epochs} epoch{(epochs == 1 ? "" : "s")})"
                : samples is int count ? $"static int8 ({MethodName(calibration)} calibration on {count} samples)" : "dynamic int8";
            CompressedRun.Write(console, $"{trained.Config.Model}: float32 → {how}", "float32", "int8", rows);
            if (quantized.LeftInFloat.Count > 0) console.WriteOneLine($"note: left in float32: {string.Join(", ", quantized.LeftInFloat)}");
            File.WriteAllText(target.ReportPath, Report(trained.Config.Model!, source, quantized, rows, how, samples is not null || aware, aware));
            console.WriteOneLine($"quantised run: {target.Path}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Fine-tunes a copy of the run's model with fake quantisation for <paramref name="epochs"/>: the run's recipe
    /// (data, batch size, optimiser, schedule) at a tenth of its learning rate, since the weights are already trained
    /// and only need to settle on the int8 grid (PyTorch's QAT tutorials do the same).
    /// </summary>
    private static Sequential FineTuneQuantizationAware(TrainedRun trained, JsonObject config, int epochs)
    {
        var stored = Tasks.Resolve(TrainingConfig.FromJson(config.ToJsonString(), "config.json")).Config;
        var recipe = stored with { Epochs = epochs, MaxSteps = null, LearningRate = stored.LearningRate / 10 };
        var setup = Pipeline.Prepare(recipe, null, null, trained.Data);
        setup.Model.LoadStateDict(trained.Model.StateDict());
        var model = (Sequential)setup.Model;
        // Wrapping keeps the layers' own parameters, which the optimiser Prepare built already holds.
        QuantizationAwareTraining.Prepare(model);
        setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        return model;
    }

    private static CalibrationMethod ParseMethod(string? name) => name switch
    {
        null or "minmax" => CalibrationMethod.MinMax,
        "percentile" => CalibrationMethod.Percentile,
        "entropy" => CalibrationMethod.Entropy,
        _ => throw new UserErrorException($"--method must be minmax, percentile or entropy, got '{name}'"),
    };

    private static string MethodName(CalibrationMethod method) => method.ToString().ToLowerInvariant();

    /// <summary>The first <paramref name="samples"/> training samples (all there are, if fewer) in batches of 64.</summary>
    private static List<Tensor> CalibrationBatches(TrainedRun run, int samples)
    {
        var train = run.Data.Train;
        var subset = new Subset<Sample>(train, Enumerable.Range(0, Math.Min(samples, train.Count)).ToArray());
        return Pipeline.Batches(subset, 64).Select(b => b.Inputs).ToList();
    }

    private static string Report(string model, RunFolder source, QuantizedModel quantized, List<CompressedRun.Row> rows, string how, bool isStatic, bool aware)
    {
        string layers = string.Join(", ", quantized.Quantized.Select(n => $"`{n}`"));
        var lines = new List<string>
        {
            $"# {model}, {how}", "",
            isStatic
                ? $"Quantised from `{source.Path}` by `loom quantize {(aware ? "--qat" : "--calibrate")}`: batch norm folded into the layer before it, then layers {layers} hold int8 " +
                  "weights (symmetric, one scale per output channel) and quantise their inputs with ranges fixed by " +
                  (aware ? "the moving averages fake-quantised fine-tuning observed" : "calibration") + "; between quantised layers " +
                  "the activations stay u8 (ReLU fused into the requantisation, max pooling on u8)."
                : $"Quantised from `{source.Path}` by `loom quantize`: the weight matrices {layers} (linear layers, attention " +
                  "projections, recurrent W_ih and W_hh) are int8 (symmetric, one scale per output channel); each product quantises " +
                  "its input per tensor from that input's own range (a recurrent layer: the whole sequence for W_ih, each step's h for W_hh).",
            "Latency is the median of repeated forwards (batch 1 and 64) on this machine at the time of quantising.", "",
        };
        lines.AddRange(CompressedRun.Markdown("float32", "int8", rows));
        if (quantized.LeftInFloat.Count > 0) lines.Add($"\nLeft in float32: {string.Join(", ", quantized.LeftInFloat)}.");
        return string.Join('\n', lines) + "\n";
    }
}
