namespace Loom.Nn;

/// <summary>
/// The 1cycle policy (Smith), as <c>torch.optim.lr_scheduler.OneCycleLR</c> with cosine annealing: from
/// max_lr/divFactor up to <c>maxLr</c> over the first <c>pctStart</c> of the steps, then down to
/// initial/finalDivFactor. Step it once per optimiser step. (Momentum cycling is not implemented.)
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly double _maxLr, _divFactor, _finalDivFactor;
    private readonly int _totalSteps;
    private readonly double _phaseEnd;

    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
        : base(Prepare(optimizer, maxLr, divFactor, totalSteps, pctStart))
    {
        (_maxLr, _totalSteps, _divFactor, _finalDivFactor) = (maxLr, totalSteps, divFactor, finalDivFactor);
        _phaseEnd = pctStart * totalSteps - 1;
        Step0();
    }

    // PyTorch sets each group's initial_lr to max_lr / div_factor before the first step.
    private static Optimizer Prepare(Optimizer o, double maxLr, double divFactor, int totalSteps, double pctStart)
    {
        if (totalSteps <= 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "total steps must be > 0");
        if (!(pctStart > 0 && pctStart < 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pct_start must be in (0, 1)");
        foreach (var g in o.ParamGroups) g.InitialLearningRate = maxLr / divFactor;
        return o;
    }

    private void Step0()
    {
        foreach (var g in Optimizer.ParamGroups) g.LearningRate = LearningRate(g.InitialLearningRate, 0);
    }

    protected override double LearningRate(double initial, int step)
    {
        if (_totalSteps == 0) return initial; // called from the base constructor before fields are set
        if (step > _totalSteps) throw new InvalidOperationException($"OneCycleLR stepped {step} times, more than total steps {_totalSteps}");
        double minLr = initial / _finalDivFactor;
        if (step <= _phaseEnd) return Cos(initial, _maxLr, step / _phaseEnd);
        return Cos(_maxLr, minLr, (step - _phaseEnd) / (_totalSteps - 1 - _phaseEnd));
    }

    private static double Cos(double start, double end, double pct) => end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1);
}
