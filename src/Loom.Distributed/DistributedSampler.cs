using Loom.Data;

namespace Loom.Distributed;

/// <summary>
/// One rank's share of each epoch (PyTorch's <c>DistributedSampler</c>): the epoch's global order (a seeded
/// permutation, the same on every rank because every rank's loader has the same seed) is dealt out round-robin, so
/// rank r gets positions r, r+N, r+2N… Each sample is visited once per epoch across the N ranks.
/// </summary>
/// <remarks>
/// <para>When the dataset does not divide by N, PyTorch's rule applies: by default the order is padded by repeating
/// its first indices until it does (every rank gets ⌈n/N⌉ indices, a few samples are seen twice); with
/// <c>dropLast</c> its tail is cut (every rank gets ⌊n/N⌋, a few samples are not seen that epoch).</para>
/// <para>Round-robin dealing is what makes N ranks with batch b equal one rank with batch N·b: batch k of every rank
/// together holds exactly positions [k·N·b, (k+1)·N·b) of the global order, which is batch k of the single rank.</para>
/// </remarks>
public sealed class DistributedSampler : ISampler
{
    private readonly ISampler _global;

    /// <param name="datasetCount">Samples in the dataset.</param>
    /// <param name="rank">This rank, 0..worldSize−1.</param>
    /// <param name="worldSize">Ranks sharing the data.</param>
    /// <param name="shuffle">A new seeded order each epoch (else 0..n−1).</param>
    /// <param name="dropLast">Cut the order to a multiple of <paramref name="worldSize"/> instead of padding it.</param>
    public DistributedSampler(int datasetCount, int rank, int worldSize, bool shuffle = true, bool dropLast = false)
    {
        if (datasetCount < 0) throw new ArgumentOutOfRangeException(nameof(datasetCount), datasetCount, "DistributedSampler: the dataset count must be ≥ 0");
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "DistributedSampler: the world size must be ≥ 1");
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"DistributedSampler: rank must be in 0..{worldSize - 1}");
        (DatasetCount, Rank, WorldSize, Shuffle, DropLast) = (datasetCount, rank, worldSize, shuffle, dropLast);
        _global = shuffle ? new RandomSampler(datasetCount) : new SequentialSampler(datasetCount);
        Count = dropLast ? datasetCount / worldSize : (datasetCount + worldSize - 1) / worldSize;
    }

    /// <summary>For the world communicator of this job (rank and size from <see cref="Mpi.World"/>).</summary>
    public static DistributedSampler ForWorld(int datasetCount, bool shuffle = true, bool dropLast = false) =>
        new(datasetCount, Mpi.World.Rank, Mpi.World.Size, shuffle, dropLast);

    public int DatasetCount { get; }

    public int Rank { get; }

    public int WorldSize { get; }

    public bool Shuffle { get; }

    public bool DropLast { get; }

    /// <summary>Indices this rank visits per epoch (the same on every rank).</summary>
    public int Count { get; }

    public int[] Order(ulong seed, int epoch)
    {
        var global = _global.Order(seed, epoch);
        var mine = new int[Count];
        if (global.Length == 0) return mine;
        for (int i = 0; i < Count; i++)
            mine[i] = global[(Rank + i * WorldSize) % global.Length]; // past the end: padding from the start
        return mine;
    }
}
