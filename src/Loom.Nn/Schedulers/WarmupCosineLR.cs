namespace Loom.Nn;

/// <summary>
/// Linear warm-up from 0 to lr₀ over <c>warmupSteps</c>, then cosine decay to <c>minLr</c> at <c>totalSteps</c>
/// (the schedule of GPT-style training). Step it once per optimiser step.
/// </summary>
public sealed class WarmupCosineLR(Optimizer optimizer, int warmupSteps, int totalSteps, double minLr = 0) : LRScheduler(Validate(optimizer, warmupSteps, totalSteps))
{
    private static Optimizer Validate(Optimizer o, int warmup, int total) =>
        warmup >= 0 && total > warmup ? o : throw new ArgumentException($"warm-up steps ({warmup}) must be ≥ 0 and below total steps ({total})");

    protected override double LearningRate(double initial, int step)
    {
        if (step < warmupSteps) return initial * (step + 1) / warmupSteps;
        if (step >= totalSteps) return minLr;
        double progress = (double)(step - warmupSteps) / (totalSteps - warmupSteps);
        return minLr + (initial - minLr) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
