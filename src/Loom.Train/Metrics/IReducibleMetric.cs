namespace Loom.Train;

/// <summary>
/// A metric whose state is counters that add up over ranks, so data-parallel training reports it for the whole
/// epoch rather than for rank 0's shard. Metrics that are not reducible report their rank's own figure.
/// </summary>
public interface IReducibleMetric : IMetric
{
    /// <summary>Replaces the counters with their sums over ranks, through <paramref name="sumAcrossRanks"/>.</summary>
    void Reduce(SumAcrossRanks sumAcrossRanks);
}

/// <summary>Replaces each value with its sum over ranks.</summary>
public delegate void SumAcrossRanks(Span<double> values);
