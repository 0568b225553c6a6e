using Loom.Data;
using Loom.Nn.Serialization;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// A trained summarisation run ready to summarise texts given on the command line (`loom summarize RUN --text`): its
/// model and vocabulary, read from the run folder without its training data.
/// </summary>
public sealed class Summarizer
{
    private Summarizer(Seq2SeqTransformer model, WordTokenizer tokenizer, int minWords, int maxWords) =>
        (Model, Tokenizer, MinWords, MaxWords) = (model, tokenizer, minWords, maxWords);

    public Seq2SeqTransformer Model { get; }

    public WordTokenizer Tokenizer { get; }

    /// <summary>Words of a summary at least.</summary>
    public int MinWords { get; }

    /// <summary>Words of a summary at most.</summary>
    public int MaxWords { get; }

    /// <summary>The run in <paramref name="folder"/> (model.safetensors, or best.safetensors when <paramref name="best"/> and present).</summary>
    public static Summarizer Load(RunFolder folder, bool best = false)
    {
        if (!File.Exists(folder.ConfigPath)) throw new FileNotFoundException($"{folder.Path} is not a Loom run folder (no config.json)", folder.ConfigPath);
        var config = TrainingConfig.FromJson(File.ReadAllText(folder.ConfigPath), folder.ConfigPath);
        if (config.Task != SummarizationTask.TaskName)
            throw new ArgumentException($"loom summarize needs a {SummarizationTask.TaskName} run; {folder.Path} is a {config.Task ?? ClassificationTask.TaskName} run");
        var tokenizer = SummarizationData.ReadTokenizer(folder);
        var model = SummarizationTask.CreateModel(config, tokenizer.VocabSize);
        var weights = best && File.Exists(folder.BestModelPath) ? folder.BestModelPath : folder.ModelPath;
        if (!File.Exists(weights)) throw new FileNotFoundException($"{folder.Path} has no trained model ({Path.GetFileName(weights)})", weights);
        model.LoadStateDict(SafeTensors.Load(weights).Tensors);
        model.Eval();
        var options = config.GetTaskOptions<SummarizationOptions>();
        return new Summarizer(model, tokenizer, options.MinSummaryLength, options.EffectiveSummaryLength);
    }

    /// <summary>A greedy summary of each text.</summary>
    public IReadOnlyList<string> Summarize(IReadOnlyList<string> texts) => SummarizationTask.Summarize(Model, Tokenizer, texts, MaxWords, MinWords);
}
