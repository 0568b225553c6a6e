namespace Loom.Nn;

/// <summary>lr = lr₀·γ^epoch.</summary>
public sealed class ExponentialLR(Optimizer optimizer, double gamma) : LRScheduler(optimizer)
{
    protected override double LearningRate(double initial, int epoch) => initial * Math.Pow(gamma, epoch);
}
