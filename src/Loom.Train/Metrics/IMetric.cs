namespace Loom.Train;

/// <summary>
/// An accumulating metric: <see cref="Update"/> once per batch, <see cref="Compute"/> at the end, <see cref="Reset"/>
/// between epochs. Predictions are what the model outputs (logits or probabilities [N, C] for classifiers, values for
/// regression); targets are class indices [N] or values.
/// </summary>
public interface IMetric
{
    /// <summary>Name used in logs and tables ("accuracy", "f1_macro"…).</summary>
    string Name { get; }

    /// <summary>True when larger is better (for early stopping and checkpoint selection).</summary>
    bool HigherIsBetter { get; }

    void Update(Tensor predictions, Tensor targets);

    double Compute();

    void Reset();
}
