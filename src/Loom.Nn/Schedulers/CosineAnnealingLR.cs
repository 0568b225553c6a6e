namespace Loom.Nn;

/// <summary>Cosine annealing from lr₀ to <c>etaMin</c> over <c>tMax</c> epochs: lr = η_min + (lr₀ − η_min)(1 + cos(π·t/T_max))/2.</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : LRScheduler(Validate(optimizer, tMax))
{
    private static Optimizer Validate(Optimizer o, int tMax) =>
        tMax > 0 ? o : throw new ArgumentOutOfRangeException(nameof(tMax), tMax, "T_max must be > 0");

    protected override double LearningRate(double initial, int epoch) =>
        etaMin + (initial - etaMin) * (1 + Math.Cos(Math.PI * epoch / tMax)) / 2;
}
