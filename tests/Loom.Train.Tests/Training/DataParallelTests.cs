using Loom.Nn;

namespace Loom.Train.Tests.Training;

/// <summary>
/// How the Trainer drives <see cref="IDataParallel"/> (real ranks are tested in Loom.Distributed.Tests): gradients
/// synchronised once per optimiser step and never on accumulation micro-steps, the epoch's figures summed over ranks.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public class DataParallelTests
{
    // Stands in for a world of ranks whose other members saw exactly what this one did: every sum doubles.
    private sealed class TwinRanks : IDataParallel
    {
        public List<string> Events { get; } = [];

        public int Rank => 0;

        public int WorldSize => 2;

        public bool RequireGradientSync
        {
            get;
            set
            {
                field = value;
                Events.Add(value ? "sync" : "local");
            }
        }

        public void SynchronizeGradients() => Events.Add("reduce");

        public void SumAcrossRanks(Span<double> values)
        {
            Events.Add($"sum{values.Length}");
            foreach (ref var v in values) v *= 2;
        }

        public void BroadcastBuffers() => Events.Add("buffers");
    }

    [Fact]
    public void Accumulation_micro_steps_stay_local_and_each_optimiser_step_reduces_once()
    {
        var model = TinyProblem.Mlp();
        var dp = new TwinRanks();
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0.05), TinyProblem.CrossEntropy,
            new TrainerOptions { Epochs = 1, GradientAccumulationSteps = 3 }, TinyProblem.Metrics) { DataParallel = dp };
        // 7 batches: steps after batches 3 and 6, then the epoch's flush of batch 7.
        trainer.Fit(new DataLoader<Sample>(TinyProblem.Blobs(28), 4));
        var steps = dp.Events.TakeWhile(e => !e.StartsWith("sum", StringComparison.Ordinal)).ToList();
        Assert.Equal(["local", "local", "sync", "sync", "reduce", "local", "local", "sync", "sync", "reduce", "local", "sync", "reduce"], steps);
        Assert.Equal(3, trainer.GlobalStep);
    }

    [Fact]
    public void The_epoch_loss_and_reducible_metrics_are_the_sums_over_ranks()
    {
        var model = TinyProblem.Mlp();
        var alone = TinyProblem.Mlp();
        var dp = new TwinRanks();
        var data = TinyProblem.Blobs(24);
        var twin = new Trainer(model, new Sgd(model.Parameters(), 0.05), TinyProblem.CrossEntropy, new TrainerOptions { Epochs = 1 }, TinyProblem.Metrics) { DataParallel = dp };
        var single = new Trainer(alone, new Sgd(alone.Parameters(), 0.05), TinyProblem.CrossEntropy, new TrainerOptions { Epochs = 1 }, TinyProblem.Metrics);
        var a = twin.Fit(new DataLoader<Sample>(data, 8)).Epochs[0].Values;
        var b = single.Fit(new DataLoader<Sample>(data, 8)).Epochs[0].Values;
        // Twins double every sum, so the averages are unchanged: the loss sum and the sample count travel together,
        // and accuracy's correct and total counts do.
        Assert.Equal(b["loss"], a["loss"], 12);
        Assert.Equal(b["accuracy"], a["accuracy"], 12);
        Assert.Equal(["sum2", "sum2", "buffers"], dp.Events.Where(e => e.StartsWith("sum", StringComparison.Ordinal) || e == "buffers"));
    }
}
