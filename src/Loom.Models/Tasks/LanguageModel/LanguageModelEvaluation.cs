namespace Loom.Models;

/// <summary>A language model's test evaluation: loss and perplexity, the n-gram baselines on the same splits, and a few sampled continuations.</summary>
public sealed class LanguageModelEvaluation(EvaluationResult result, ResultTable baselines, ResultTable continuations) : TaskEvaluation(result)
{
    /// <summary>Perplexity of the model, the unigram and the bigram on the validation and test splits.</summary>
    public ResultTable Baselines { get; } = baselines;

    /// <summary>Continuations of prompts taken from the test text.</summary>
    public ResultTable Continuations { get; } = continuations;

    public override IReadOnlyList<ResultTable> Tables => [Baselines, Continuations];
}
