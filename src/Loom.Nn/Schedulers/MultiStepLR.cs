namespace Loom.Nn;

/// <summary>Multiplies the learning rate by <c>gamma</c> at each milestone epoch.</summary>
public sealed class MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1) : LRScheduler(optimizer)
{
    private readonly int[] _milestones = milestones.Order().ToArray();

    protected override double LearningRate(double initial, int epoch) =>
        initial * Math.Pow(gamma, _milestones.Count(m => m <= epoch));
}
