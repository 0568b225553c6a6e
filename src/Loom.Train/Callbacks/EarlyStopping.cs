namespace Loom.Train;

/// <summary>
/// Stops training when a monitored value ("val_loss", "val_accuracy", "loss"…) has not improved by more than
/// <c>minDelta</c> for <c>patience</c> epochs. <c>mode</c> "min" or "max"; by default "max" for names containing
/// accuracy, f1, precision, recall, auc or r2 and "min" otherwise.
/// </summary>
public sealed class EarlyStopping : IStatefulCallback
{
    private readonly string _monitor;
    private readonly int _patience;
    private readonly double _minDelta;
    private readonly bool _maximize;

    public EarlyStopping(string monitor = "val_loss", int patience = 3, double minDelta = 0, string? mode = null)
    {
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be ≥ 0");
        if (mode is not (null or "min" or "max")) throw new ArgumentException($"early stopping mode must be 'min' or 'max', got '{mode}'");
        _monitor = monitor;
        _patience = patience;
        _minDelta = Math.Abs(minDelta);
        _maximize = mode is null ? LooksLikeScore(monitor) : mode == "max";
        Best = _maximize ? double.NegativeInfinity : double.PositiveInfinity;
    }

    internal static bool LooksLikeScore(string name) =>
        new[] { "accuracy", "f1", "precision", "recall", "auc", "r2", "bleu", "rouge", "map" }.Any(s => name.Contains(s, StringComparison.OrdinalIgnoreCase));

    public double Best { get; private set; }

    /// <summary>Epochs since the last improvement.</summary>
    public int Wait { get; private set; }

    public string StateKey => $"early_stopping.{_monitor}";

    public void OnEpochEnd(Trainer trainer, EpochSummary summary)
    {
        double value = summary.Get(_monitor);
        bool improved = _maximize ? value > Best + _minDelta : value < Best - _minDelta;
        if (improved)
        {
            Best = value;
            Wait = 0;
        }
        else if (++Wait >= _patience)
        {
            // As Keras and Lightning: patience 2 means the second epoch without improvement stops the run.
            trainer.RequestStop($"early stopping: {_monitor} did not improve for {Wait} epochs (best {Best:G6})");
        }
    }

    public Dictionary<string, double> GetState() => new() { ["best"] = Best, ["wait"] = Wait };

    public void SetState(IReadOnlyDictionary<string, double> state)
    {
        Best = state["best"];
        Wait = (int)state["wait"];
    }
}
