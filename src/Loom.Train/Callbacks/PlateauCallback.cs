using Loom.Nn;

namespace Loom.Train;

/// <summary>
/// Feeds a monitored epoch value to a <see cref="ReduceLROnPlateau"/> schedule; its best value and counters go into
/// checkpoints, so a resumed run reduces the learning rate at the same epochs.
/// </summary>
public sealed class PlateauCallback(ReduceLROnPlateau schedule, string monitor) : IStatefulCallback
{
    public string StateKey => $"plateau.{monitor}";

    public void OnEpochEnd(Trainer trainer, EpochSummary summary) => schedule.Step(summary.Get(monitor));

    public Dictionary<string, double> GetState() => schedule.StateDict();

    public void SetState(IReadOnlyDictionary<string, double> state) => schedule.LoadStateDict(state);
}
