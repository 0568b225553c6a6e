using Loom.Onnx;

namespace Loom.Cli.Commands;

/// <summary>
/// `loom import FILE [--out RUN --data DATA]`: reads an ONNX model and prints its graph summary; with --out, writes a
/// run folder of model "onnx" (the imported network, its outputs flattened into features, and a new Linear head for
/// the data's classes) that eval, predict, export and `train --resume` (fine-tuning from epoch 0) accept.
/// </summary>
internal static class ImportCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var file = new Argument<string>("model") { Description = "an ONNX file" };
        var output = new Option<string?>("--out") { Description = "write a run folder here: config.json, model.onnx, model.safetensors (network + new head), last.ckpt (epoch 0), summary.txt" };
        var data = new Option<string>("--data") { Description = "the classification data the new head is for (built-in name, image folder, CSV…)", DefaultValueFactory = _ => new TrainingConfig().Data };
        var input = new Option<string?>("--input") { Description = "C,H,W the network reads (images are resized and grayscale repeated); default: the ONNX input's static dims" };
        var scale = new Option<double>("--scale") { Description = "factor on the inputs before the network (CNTK's ResNet18 reads 0–255 pixels: 255)", DefaultValueFactory = _ => 1 };
        var mean = new Option<string?>("--mean") { Description = "per-channel values subtracted after --scale (ML.NET's ResNet18 preprocessing: 103.1,115.9,123.2)" };
        var trainAll = new Option<bool>("--train-all") { Description = "fine-tuning updates the imported network too (default: only the new head)" };
        var epochs = new Option<int>("--epochs") { Description = "epochs `loom train --resume RUN` fine-tunes for", DefaultValueFactory = _ => 3 };
        var command = new Command("import", "Read an ONNX model, print its graph summary, and (with --out) make it a run folder to evaluate and fine-tune")
            { file, output, data, input, scale, mean, trainAll, epochs };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            // The run folder is new (it may already hold the model being imported, which is copied nowhere then).
            if (parse.GetValue(output) is { } outDir) OutputFile.RequireNewFolder(outDir, input: path);
            OnnxModule model;
            try
            {
                model = OnnxModule.Load(path);
            }
            catch (OnnxException e)
            {
                throw new UserErrorException(e.Message);
            }
            string summary = model.Summary();
            foreach (var line in summary.Split('\n')) console.WriteOneLine(line.TrimEnd());
            if (parse.GetValue(output) is not { } dir) return 0;

            var networkInput = parse.GetValue(input) is { } text ? ParseDims(text) : StaticInput(model);
            // A network that does not run on the inputs fails in Prepare, after model.onnx and summary.txt are written.
            OutputFile.FillNewFolder(dir, path, () => WriteRun(parse, path, dir, model, summary, networkInput));
            return 0;
        });
        return command;

        void WriteRun(ParseResult parse, string path, string dir, OnnxModule model, string summary, int[]? networkInput)
        {
            Directory.CreateDirectory(dir);
            var folder = new RunFolder(dir);
            string onnxPath = Path.Combine(folder.Path, "model.onnx");
            if (Path.GetFullPath(path) != onnxPath) File.Copy(path, onnxPath, overwrite: true);
            File.WriteAllText(Path.Combine(folder.Path, "summary.txt"), summary + Environment.NewLine);
            var options = new ClassificationOptions { OnnxModel = onnxPath, OnnxInput = networkInput, OnnxScale = parse.GetValue(scale),
                OnnxMean = parse.GetValue(mean) is { } means ? ParseMeans(means) : null, OnnxTrainAll = parse.GetValue(trainAll) ? true : null };
            var config = new TrainingConfig { Task = ClassificationTask.TaskName, Data = parse.GetValue(data)!, Model = ImportedClassifier.ModelName, Epochs = parse.GetValue(epochs) }
                .WithTaskOptions(options);
            var setup = Pipeline.Prepare(config, null);
            folder.WriteConfig(Pipeline.Stored(setup.Config));
            setup.Data.Save(folder);
            SafeTensors.Save(folder.ModelPath, setup.Model.StateDict());
            // An epoch-0 checkpoint: `loom train --resume` then fine-tunes the new head (and the network with --train-all).
            setup.Trainer.SaveCheckpoint(folder.CheckpointPath);
            long trainable = setup.Model.ParameterCount(trainableOnly: true);
            console.WriteOneLine($"wrote {folder.Path}: {setup.Data.Description}, {setup.Model.ParameterCount():N0} parameters ({trainable:N0} trained by loom train --resume {dir})");
        }
    }

    private static double[] ParseMeans(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], System.Globalization.CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new UserErrorException($"--mean {text}: expected one number per channel, comma-separated");
        return values;
    }

    private static int[] ParseDims(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out dims[i]) || dims[i] < 1) throw new UserErrorException($"--input {text}: expected positive sizes C,H,W (or F), comma-separated");
        return dims;
    }

    // The network's one input without its batch dimension, when every size is fixed ([1, 3, 224, 224] → [3, 224, 224]).
    private static int[]? StaticInput(OnnxModule model)
    {
        if (model.Inputs.Count != 1) throw new UserErrorException($"{model.Source}: a run folder needs a network of one input, this one has {model.Inputs.Count}");
        var dims = model.Inputs[0].Dims.Skip(1).ToArray();
        return dims.All(d => int.TryParse(d, out var n) && n > 0) ? dims.Select(int.Parse).ToArray() : null;
    }
}
