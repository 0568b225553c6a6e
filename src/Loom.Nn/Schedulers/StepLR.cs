namespace Loom.Nn;

/// <summary>Multiplies the learning rate by <c>gamma</c> every <c>stepSize</c> epochs: lr = lr₀·γ^⌊epoch/stepSize⌋.</summary>
public sealed class StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : LRScheduler(Validate(optimizer, stepSize))
{
    private static Optimizer Validate(Optimizer o, int stepSize) =>
        stepSize > 0 ? o : throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "step size must be > 0");

    protected override double LearningRate(double initial, int epoch) => initial * Math.Pow(gamma, epoch / stepSize);
}
