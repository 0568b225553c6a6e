using Loom.Nn;
using Loom.Train;

namespace Loom.Models;

/// <summary>Feeds a monitored epoch value to a <see cref="ReduceLROnPlateau"/> schedule.</summary>
public sealed class PlateauCallback(ReduceLROnPlateau schedule, string monitor) : ICallback
{
    public void OnEpochEnd(Trainer trainer, EpochSummary summary) => schedule.Step(summary.Get(monitor));
}
