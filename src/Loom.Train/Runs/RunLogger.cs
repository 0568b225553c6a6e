namespace Loom.Train;

/// <summary>Writes a metrics.jsonl line ({"kind":"epoch", "epoch", "step", "seconds", values…}) after every epoch.</summary>
public sealed class RunLogger(RunFolder folder) : ICallback
{
    public void OnEpochEnd(Trainer trainer, EpochSummary summary)
    {
        var line = new JsonObject
        {
            ["kind"] = "epoch",
            ["epoch"] = summary.Epoch + 1,
            ["step"] = summary.GlobalStep,
            ["seconds"] = Math.Round(summary.Duration.TotalSeconds, 3),
        };
        foreach (var (k, v) in summary.Values) line[k] = double.IsFinite(v) ? v : null;
        folder.AppendMetrics(line);
    }
}
