using Loom.Nn.Serialization;

namespace Loom.Models;

/// <summary>
/// What a task's own verb (`loom detect`, `listen`, `faces verify`, `translate`, `summarize`, `generate`, `predict --text`) needs of a run folder without its data: the run's
/// config, checked to be of that task, and its trained weights.
/// </summary>
public static class TrainedWeights
{
    /// <summary>The run's config.json (checked as <see cref="Pipeline.ReadConfig"/> does); a run of another task is one line naming both.</summary>
    public static TrainingConfig ReadConfig(RunFolder folder, string task, string verb)
    {
        var config = Pipeline.ReadConfig(folder);
        if (config.Task != task) throw new ArgumentException($"loom {verb} needs a {task} run; {folder.Path} is a {config.Task} run");
        return config;
    }

    /// <summary>The run's tokenizer (<paramref name="file"/> in the run folder).</summary>
    public static ITokenizer ReadTokenizer(RunFolder folder, string file)
    {
        var path = folder.File(file);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder.Path} has no {file}", path);
        return Tokenizer.Load(path);
    }

    /// <summary>
    /// Loads the run's model.safetensors (best.safetensors when <paramref name="best"/> and there is one) into
    /// <paramref name="model"/>; weights that do not fit it (a run of an older model of that name, config.json edited,
    /// another run's file) are one line naming the file and the tensors.
    /// </summary>
    /// <param name="quantization">The run's config.json <c>quantization</c>: for a dynamic int8 run of `loom quantize` the
    /// model's weights are packed as the run's were before loading (static int8 runs load through <see cref="Pipeline.Load"/>).</param>
    public static void Load(Module model, RunFolder folder, bool best = false, string? name = null, string? quantization = null)
    {
        var weights = best && File.Exists(folder.BestModelPath) ? folder.BestModelPath : folder.ModelPath;
        if (!File.Exists(weights)) throw new FileNotFoundException($"{folder.Path} has no trained model ({Path.GetFileName(weights)})", weights);
        if (quantization is null)
        {
            Fit(() => model.LoadStateDict(SafeTensors.Load(weights).Tensors), weights, folder, name);
            return;
        }
        if (quantization != Compress.Quantization.DynamicInt8 || model is not Module<Tensor, Tensor> quantizable)
            throw new InvalidDataException($"{folder.ConfigPath}: quantization {quantization} is not one the {name ?? "model"} of this run can load");
        Compress.Quantization.QuantizeDynamic(quantizable);
        Fit(() => Compress.Quantization.LoadStateDict(model, SafeTensors.Load(weights).Tensors, weights), weights, folder, name);
    }

    /// <summary>Runs <paramref name="load"/>, turning a <see cref="StateDictMismatchException"/> into one line naming <paramref name="weights"/> and the run's config.</summary>
    public static void Fit(Action load, string weights, RunFolder folder, string? name = null)
    {
        try
        {
            load();
        }
        catch (StateDictMismatchException e)
        {
            var problems = new List<string>();
            if (e.MissingKeys.Count > 0) problems.Add($"{e.MissingKeys.Count} missing ({Few(e.MissingKeys)})");
            if (e.UnexpectedKeys.Count > 0) problems.Add($"{e.UnexpectedKeys.Count} unexpected ({Few(e.UnexpectedKeys)})");
            if (e.MisShapedKeys.Count > 0) problems.Add($"{e.MisShapedKeys.Count} of another shape ({Few(e.MisShapedKeys)})");
            throw new InvalidDataException($"{weights} does not fit the {name ?? "model"} that {folder.ConfigPath} describes: tensors {string.Join(", ", problems)}; was it written by an older Loom whose model had other layers, config.json edited, or the file copied from another run?", e);
        }
    }

    private static string Few(IReadOnlyList<string> names) => string.Join(", ", names.Take(3)) + (names.Count > 3 ? ", …" : "");
}
