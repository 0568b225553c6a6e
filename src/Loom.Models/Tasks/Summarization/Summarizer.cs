namespace Loom.Models;

/// <summary>
/// A trained summarisation run ready to summarise texts given on the command line (`loom summarize RUN --text`): its
/// model and vocabulary, read from the run folder without its training data.
/// </summary>
public sealed class Summarizer
{
    private Summarizer(Seq2SeqTransformer model, WordTokenizer tokenizer, SummarizationOptions options) =>
        (Model, Tokenizer, Options) = (model, tokenizer, options);

    public Seq2SeqTransformer Model { get; }

    public WordTokenizer Tokenizer { get; }

    /// <summary>The run's options: the source and summary lengths, and how it decodes.</summary>
    public SummarizationOptions Options { get; }

    /// <summary>The run in <paramref name="folder"/> (model.safetensors, or best.safetensors when <paramref name="best"/> and present).</summary>
    public static Summarizer Load(RunFolder folder, bool best = false)
    {
        var config = TrainedWeights.ReadConfig(folder, SummarizationTask.TaskName, "summarize");
        var tokenizer = SummarizationData.ReadTokenizer(folder);
        var model = SummarizationTask.CreateModel(config, tokenizer.VocabSize);
        TrainedWeights.Load(model, folder, best, config.Model);
        model.Eval();
        return new Summarizer(model, tokenizer, config.GetTaskOptions<SummarizationOptions>());
    }

    /// <summary>A summary of each text, decoded as the run's options say.</summary>
    public IReadOnlyList<string> Summarize(IReadOnlyList<string> texts) =>
        SummarizationTask.Summarize(Model, Tokenizer, texts, Options.EffectiveSourceLength, Options.EffectiveSummaryLength, Options);
}
