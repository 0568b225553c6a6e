namespace Loom.Train;

/// <summary>
/// The figures of one epoch. Metric values are keyed "loss", "accuracy", … for training and "val_loss",
/// "val_accuracy", … for validation; <see cref="Values"/> holds both, plus "lr".
/// </summary>
public sealed record EpochSummary(int Epoch, long GlobalStep, IReadOnlyDictionary<string, double> Values, TimeSpan Duration)
{
    /// <summary>The value of <paramref name="key"/>, or throws naming the keys there are.</summary>
    public double Get(string key) => Values.TryGetValue(key, out var v)
        ? v
        : throw new KeyNotFoundException($"epoch summary has no '{key}' (has: {string.Join(", ", Values.Keys)})");
}
