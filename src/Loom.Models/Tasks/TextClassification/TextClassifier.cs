using Loom.Nn.Serialization;

namespace Loom.Models;

/// <summary>
/// A trained text-classification run ready to classify texts given on the command line (`loom predict RUN --text`):
/// its model, vocabulary (or pretrained encoder) and classes, read from the run folder without its training data.
/// </summary>
public sealed class TextClassifier
{
    private readonly Func<IReadOnlyList<string>, Tensor> _encode;

    private TextClassifier(Module<Tensor, Tensor> model, Func<IReadOnlyList<string>, Tensor> encode, IReadOnlyList<string> classes, int maxLength) =>
        (Model, _encode, ClassNames, MaxLength) = (model, encode, classes, maxLength);

    /// <summary>The trained model: on word ids, or the head on a frozen encoder's embeddings.</summary>
    public Module<Tensor, Tensor> Model { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public int MaxLength { get; }

    /// <summary>The run in <paramref name="folder"/> (model.safetensors, or best.safetensors when <paramref name="best"/> and present).</summary>
    public static TextClassifier Load(RunFolder folder, bool best = false)
    {
        if (!File.Exists(folder.ConfigPath)) throw new FileNotFoundException($"{folder.Path} is not a Loom run folder (no config.json)", folder.ConfigPath);
        var config = TrainingConfig.FromJson(File.ReadAllText(folder.ConfigPath), folder.ConfigPath);
        if (config.Task != TextClassificationTask.TaskName)
            throw new ArgumentException($"--text needs a {TextClassificationTask.TaskName} run; {folder.Path} is a {config.Task ?? ClassificationTask.TaskName} run (give it --data instead)");
        var classes = ClassNamesFile.Read(folder.File(TextClassificationData.ClassesFile));
        var options = config.GetTaskOptions<TextClassificationOptions>();
        Module<Tensor, Tensor> model;
        Func<IReadOnlyList<string>, Tensor> encode;
        if (TextClassificationTask.UsesEncoder(config) && TextClassificationTask.UsesWords(config))
        {
            var encoder = MiniLm.Load(options.Encoder);
            var tokenizer = TextClassificationData.ReadTokenizer(folder);
            model = TextClassificationTask.CreateModel(config, tokenizer, classes.Length, encoderDim: encoder.Dim);
            encode = texts => EmbeddingNgramClassifier.Pack(encoder.Embed(texts), TextClassificationData.Encode(tokenizer, texts, options.EffectiveMaxLength));
        }
        else if (TextClassificationTask.UsesEncoder(config))
        {
            var encoder = MiniLm.Load(options.Encoder);
            model = TextClassificationTask.CreateHead(config, encoder.Dim, classes.Length);
            encode = texts => encoder.Embed(texts);
        }
        else
        {
            var tokenizer = TextClassificationData.ReadTokenizer(folder);
            model = TextClassificationTask.CreateModel(config, tokenizer, classes.Length);
            encode = texts => TextClassificationData.Encode(tokenizer, texts, options.EffectiveMaxLength);
        }
        TrainedWeights.Load(model, folder, best, config.Model, config.Quantization);
        model.Eval();
        return new TextClassifier(model, encode, classes, options.EffectiveMaxLength);
    }

    /// <summary>Each text's most probable class and that probability, and the probability of every class.</summary>
    public IReadOnlyList<(string Class, double Probability, double[] Probabilities)> Predict(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        var p = TextClassificationTask.Probabilities(Model, _encode(texts));
        return [.. p.Select(row => { int best = TextClassificationTask.ArgMax(row); return (ClassNames[best], row[best], row); })];
    }
}
