namespace Loom.Train;

/// <summary>Loss and metrics over a whole data set, computed in eval mode without gradients.</summary>
public sealed record EvaluationResult(double Loss, IReadOnlyDictionary<string, double> Metrics, long Samples);
