namespace Loom.Nn;

/// <summary>
/// Reduces the learning rate by <c>factor</c> when a metric has not improved for <c>patience</c> epochs, as
/// <c>torch.optim.lr_scheduler.ReduceLROnPlateau</c> (relative threshold mode). Call <see cref="Step(double)"/> with the metric.
/// </summary>
public sealed class ReduceLROnPlateau
{
    private readonly Optimizer _optimizer;
    private readonly bool _minimize;
    private readonly double _factor, _threshold, _minLr;
    private readonly int _patience, _cooldown;

    public ReduceLROnPlateau(Optimizer optimizer, bool minimize = true, double factor = 0.1, int patience = 10, double threshold = 1e-4, int cooldown = 0, double minLr = 0)
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be in (0, 1)");
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "patience must be ≥ 0");
        (_optimizer, _minimize, _factor, _patience, _threshold, _cooldown, _minLr) = (optimizer, minimize, factor, patience, threshold, cooldown, minLr);
        Best = minimize ? double.PositiveInfinity : double.NegativeInfinity;
    }

    public double Best { get; private set; }
    public int BadEpochs { get; private set; }
    public int CooldownCounter { get; private set; }

    public void Step(double metric)
    {
        bool better = _minimize ? metric < Best * (1 - _threshold) : metric > Best * (1 + _threshold);
        if (double.IsInfinity(Best)) better = !double.IsNaN(metric);
        if (better)
        {
            Best = metric;
            BadEpochs = 0;
        }
        else
        {
            BadEpochs++;
        }
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            BadEpochs = 0;
        }
        if (BadEpochs > _patience)
        {
            foreach (var g in _optimizer.ParamGroups)
                g.LearningRate = Math.Max(g.LearningRate * _factor, _minLr);
            CooldownCounter = _cooldown;
            BadEpochs = 0;
        }
    }

    public Dictionary<string, double> StateDict() => new() { ["best"] = Best, ["bad_epochs"] = BadEpochs, ["cooldown_counter"] = CooldownCounter };

    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        Best = state["best"];
        BadEpochs = (int)state["bad_epochs"];
        CooldownCounter = (int)state["cooldown_counter"];
    }
}
