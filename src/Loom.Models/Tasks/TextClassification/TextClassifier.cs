using Loom.Train;
using Loom.Nn;
using Loom.Nn.Serialization;

namespace Loom.Models;

/// <summary>
/// A trained text-classification run ready to classify texts given on the command line (`loom predict RUN --text`):
/// its model, vocabulary and classes, read from the run folder without its training data.
/// </summary>
public sealed class TextClassifier
{
    private TextClassifier(Module<Tensor, Tensor> model, Data.WordTokenizer tokenizer, IReadOnlyList<string> classes, int maxLength) =>
        (Model, Tokenizer, ClassNames, MaxLength) = (model, tokenizer, classes, maxLength);

    public Module<Tensor, Tensor> Model { get; }

    public Data.WordTokenizer Tokenizer { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public int MaxLength { get; }

    /// <summary>The run in <paramref name="folder"/> (model.safetensors, or best.safetensors when <paramref name="best"/> and present).</summary>
    public static TextClassifier Load(RunFolder folder, bool best = false)
    {
        if (!File.Exists(folder.ConfigPath)) throw new FileNotFoundException($"{folder.Path} is not a Loom run folder (no config.json)", folder.ConfigPath);
        var config = TrainingConfig.FromJson(File.ReadAllText(folder.ConfigPath), folder.ConfigPath);
        if (config.Task != TextClassificationTask.TaskName)
            throw new ArgumentException($"--text needs a {TextClassificationTask.TaskName} run; {folder.Path} is a {config.Task ?? ClassificationTask.TaskName} run (give it --data instead)");
        var tokenizer = TextClassificationData.ReadTokenizer(folder);
        var classes = ClassNamesFile.Read(folder.File(TextClassificationData.ClassesFile));
        var model = TextClassificationTask.CreateModel(config, tokenizer, classes.Length);
        var weights = best && File.Exists(folder.BestModelPath) ? folder.BestModelPath : folder.ModelPath;
        if (!File.Exists(weights)) throw new FileNotFoundException($"{folder.Path} has no trained model ({Path.GetFileName(weights)})", weights);
        model.LoadStateDict(SafeTensors.Load(weights).Tensors);
        model.Eval();
        return new TextClassifier(model, tokenizer, classes, config.GetTaskOptions<TextClassificationOptions>().EffectiveMaxLength);
    }

    /// <summary>Each text's most probable class and that probability, and the probability of every class.</summary>
    public IReadOnlyList<(string Class, double Probability, double[] Probabilities)> Predict(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        var p = TextClassificationTask.Probabilities(Model, TextClassificationData.Encode(Tokenizer, texts, MaxLength));
        return [.. p.Select(row => { int best = TextClassificationTask.ArgMax(row); return (ClassNames[best], row[best], row); })];
    }
}
