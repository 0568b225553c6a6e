namespace Loom.Train;

/// <summary>
/// Hooks into the <see cref="Trainer"/>'s loop (early stopping, checkpoints, progress display, logging). Every method
/// has an empty default, so a callback implements only what it needs. Callbacks run in the order they were given.
/// </summary>
public interface ICallback
{
    void OnFitStart(Trainer trainer) { }

    void OnEpochStart(Trainer trainer, int epoch, int batches) { }

    void OnBatchEnd(Trainer trainer, StepInfo step) { }

    void OnEpochEnd(Trainer trainer, EpochSummary summary) { }

    void OnFitEnd(Trainer trainer, FitResult result) { }
}
