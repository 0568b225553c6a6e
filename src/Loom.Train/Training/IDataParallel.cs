namespace Loom.Train;

/// <summary>
/// What the <see cref="Trainer"/> needs from data-parallel training (implemented by Loom.Distributed's
/// <c>DistributedDataParallel</c>), so that the training loop stays one loop: each rank runs it on its own shard, and
/// the trainer says when gradients must be averaged and which figures are summed over ranks.
/// </summary>
public interface IDataParallel
{
    /// <summary>This process's rank; rank 0 alone prints, logs and writes checkpoints.</summary>
    int Rank { get; }

    /// <summary>Ranks training together.</summary>
    int WorldSize { get; }

    /// <summary>
    /// Whether the next backward's gradients are averaged over ranks: false on gradient-accumulation micro-steps,
    /// which accumulate locally with no communication.
    /// </summary>
    bool RequireGradientSync { get; set; }

    /// <summary>Leaves the gradients averaged over ranks; called before each optimiser step.</summary>
    void SynchronizeGradients();

    /// <summary>Replaces each value with its sum over ranks (loss sums, sample counts, metric counters).</summary>
    void SumAcrossRanks(Span<double> values);

    /// <summary>Copies rank 0's buffers (batch-norm running statistics) into every replica.</summary>
    void BroadcastBuffers();
}
