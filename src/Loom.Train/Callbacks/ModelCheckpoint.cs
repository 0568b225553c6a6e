using Loom.Nn.Serialization;

namespace Loom.Train;

/// <summary>
/// Saves, in <c>directory</c>: <c>last.ckpt</c> (the full training state, for resuming) after every epoch, every
/// <c>everyNSteps</c> optimiser steps if set, and when the run is interrupted; and <c>best.safetensors</c> (the model's
/// weights) whenever the monitored value improves. All writes are atomic. Give it after the callbacks whose epoch-end
/// changes (early-stopping counters, a plateau schedule's rate) the checkpoint must hold.
/// </summary>
public sealed class ModelCheckpoint : IStatefulCallback
{
    private readonly string _directory;
    private readonly string _monitor;
    private readonly bool _maximize;
    private readonly int? _everyNSteps;

    public ModelCheckpoint(string directory, string monitor = "val_loss", string? mode = null, int? everyNSteps = null)
    {
        if (mode is not (null or "min" or "max")) throw new ArgumentException($"checkpoint mode must be 'min' or 'max', got '{mode}'");
        if (everyNSteps is <= 0) throw new ArgumentOutOfRangeException(nameof(everyNSteps), everyNSteps, "checkpoint interval must be > 0");
        _directory = directory;
        _monitor = monitor;
        _maximize = mode is null ? EarlyStopping.LooksLikeScore(monitor) : mode == "max";
        _everyNSteps = everyNSteps;
        Best = _maximize ? double.NegativeInfinity : double.PositiveInfinity;
    }

    public string LastPath => Path.Combine(_directory, "last.ckpt");

    public string BestPath => Path.Combine(_directory, "best.safetensors");

    public double Best { get; private set; }

    public string StateKey => $"model_checkpoint.{_monitor}";

    public void OnFitStart(Trainer trainer) => Directory.CreateDirectory(_directory);

    public void OnBatchEnd(Trainer trainer, StepInfo step)
    {
        if (_everyNSteps is int n && step.GlobalStep > 0 && step.GlobalStep % n == 0 && step.Batch + 1 < step.BatchesPerEpoch)
            trainer.SaveCheckpoint(LastPath);
    }

    public void OnEpochEnd(Trainer trainer, EpochSummary summary)
    {
        if (summary.Values.TryGetValue(_monitor, out double value) && (_maximize ? value > Best : value < Best))
        {
            Best = value;
            SafeTensors.Save(BestPath, trainer.Model.StateDict(), new Dictionary<string, string> { ["epoch"] = summary.Epoch.ToString(), [_monitor] = value.ToString("R") });
        }
        trainer.SaveCheckpoint(LastPath);
    }

    public void OnFitEnd(Trainer trainer, FitResult result)
    {
        // An interrupted epoch has no OnEpochEnd: save where it stopped so --resume continues from there.
        if (trainer.BatchInEpoch > 0) trainer.SaveCheckpoint(LastPath);
    }

    public Dictionary<string, double> GetState() => new() { ["best"] = Best };

    public void SetState(IReadOnlyDictionary<string, double> state) => Best = state["best"];
}
