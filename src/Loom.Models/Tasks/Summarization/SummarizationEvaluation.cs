namespace Loom.Models;

/// <summary>A summariser's test evaluation: loss and perplexity, ROUGE of the model beside the tuned lead baseline, and example summaries next to their references.</summary>
public sealed class SummarizationEvaluation(EvaluationResult result, ResultTable scores, ResultTable examples) : TaskEvaluation(result)
{
    /// <summary>ROUGE-1/2/L F-measures of the model and the lead baseline on the test split.</summary>
    public ResultTable Scores { get; } = scores;

    /// <summary>Test descriptions with their synopsis, the model's summary and the lead's.</summary>
    public ResultTable Examples { get; } = examples;

    public override IReadOnlyList<ResultTable> Tables => [Scores, Examples];
}
