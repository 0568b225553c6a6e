using Loom.Nn;
using Loom.Train.Tests.Training;

namespace Loom.Train.Tests.Callbacks;

public class PlateauCallbackTests
{
    private static EpochSummary Epoch(int epoch, double valLoss) =>
        new(epoch, epoch * 10, new Dictionary<string, double> { ["val_loss"] = valLoss }, TimeSpan.Zero);

    private static (Sgd Optimizer, PlateauCallback Callback) Create()
    {
        var model = TinyProblem.Mlp();
        var sgd = new Sgd(model.Parameters(), 0.1);
        return (sgd, new PlateauCallback(new ReduceLROnPlateau(sgd, patience: 1, factor: 0.5), "val_loss"));
    }

    [Fact]
    public void The_rate_drops_once_the_monitored_value_stops_improving_for_longer_than_the_patience()
    {
        var (sgd, plateau) = Create();
        double[] losses = [1.0, 0.8, 0.9, 0.85, 0.95];
        var rates = new List<double>();
        for (int e = 0; e < losses.Length; e++)
        {
            plateau.OnEpochEnd(null!, Epoch(e, losses[e]));
            rates.Add(sgd.LearningRate);
        }
        // Best 0.8 at epoch 2; epochs 3 and 4 are worse, and the second bad epoch exceeds patience 1 and halves the rate;
        // the count starts again, so the bad epoch 5 alone does not.
        Assert.Equal([0.1, 0.1, 0.1, 0.05, 0.05], rates);
    }

    [Fact]
    public void Its_state_restores_the_best_value_and_counters()
    {
        var (_, first) = Create();
        first.OnEpochEnd(null!, Epoch(0, 1.0));
        first.OnEpochEnd(null!, Epoch(1, 1.2));
        var (sgd, second) = Create();
        second.SetState(first.GetState());

        second.OnEpochEnd(null!, Epoch(2, 1.1));

        // Restored, the bad epoch before counts: a second bad one exceeds patience 1. A fresh schedule would take 1.1 as its best.
        Assert.Equal(0.05, sgd.LearningRate, 15);
        Assert.Equal("plateau.val_loss", second.StateKey);
    }
}
