namespace Loom.Train;

/// <summary>What <see cref="Trainer.Fit{T}"/> returns: every epoch's summary and why it stopped.</summary>
public sealed record FitResult(IReadOnlyList<EpochSummary> Epochs, long GlobalStep, string StopReason)
{
    public EpochSummary? Last => Epochs.Count == 0 ? null : Epochs[^1];
}
