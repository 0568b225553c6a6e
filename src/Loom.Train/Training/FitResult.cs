namespace Loom.Train;

/// <summary>What <see cref="Trainer.Fit{T}"/> returns: every epoch's summary, why it stopped, and where it started.</summary>
public sealed record FitResult(IReadOnlyList<EpochSummary> Epochs, long GlobalStep, string StopReason)
{
    public EpochSummary? Last => Epochs.Count == 0 ? null : Epochs[^1];

    /// <summary>The epoch this call started in: 0 for a fresh run, the checkpoint's epoch for a resumed one.</summary>
    public int StartEpoch { get; init; }

    /// <summary>Batches of <see cref="StartEpoch"/> already trained when this call started.</summary>
    public int StartBatch { get; init; }

    /// <summary>Optimiser steps already taken when this call started.</summary>
    public long StartStep { get; init; }

    /// <summary>Batches trained by this call.</summary>
    public long Batches { get; init; }

    /// <summary>Optimiser steps taken by this call.</summary>
    public long Steps => GlobalStep - StartStep;

    /// <summary>Stopped by <see cref="Trainer.Interrupt"/>: the run is unfinished and resumes from its checkpoint.</summary>
    public bool Interrupted { get; init; }

    /// <summary>Time spent in the epoch this call left unfinished (a step limit or stop mid-epoch): it has no <see cref="EpochSummary"/> to hold it.</summary>
    public TimeSpan UnfinishedEpochTime { get; init; }

    /// <summary>Training time: every finished epoch's duration and the unfinished one's, so a run stopped mid-epoch does not report zero.</summary>
    public TimeSpan TrainingTime => Epochs.Aggregate(UnfinishedEpochTime, (sum, e) => sum + e.Duration);

    /// <summary>Whether this call continued a run (from a checkpoint or an earlier call) rather than starting one.</summary>
    public bool Continued => StartStep > 0 || StartEpoch > 0 || StartBatch > 0;
}
