namespace Loom.Nn;

/// <summary>
/// Base of the learning-rate schedules. Each sets every parameter group's learning rate from the group's initial
/// rate and the epoch (or step) counter, in closed form, so a schedule restored from its state dict continues exactly.
/// Call <see cref="Step"/> once per epoch (or per optimiser step for per-step schedules such as warm-up and OneCycle),
/// after <c>optimizer.Step()</c>, as in PyTorch.
/// </summary>
public abstract class LRScheduler
{
    protected LRScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        Apply();
    }

    public Optimizer Optimizer { get; }

    /// <summary>How many times <see cref="Step"/> has been called.</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rate of each group after the last step.</summary>
    public IReadOnlyList<double> LastLearningRates => Optimizer.ParamGroups.Select(g => g.LearningRate).ToList();

    public virtual void Step()
    {
        LastEpoch++;
        Apply();
    }

    private void Apply()
    {
        foreach (var g in Optimizer.ParamGroups) g.LearningRate = LearningRate(g.InitialLearningRate, LastEpoch);
    }

    /// <summary>The learning rate at <paramref name="epoch"/> for a group that started at <paramref name="initial"/>.</summary>
    protected abstract double LearningRate(double initial, int epoch);

    /// <summary>The counter, for checkpoints.</summary>
    public virtual Dictionary<string, double> StateDict() => new() { ["last_epoch"] = LastEpoch };

    public virtual void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        LastEpoch = (int)state["last_epoch"];
        Apply();
    }
}
