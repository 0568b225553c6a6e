namespace Loom.Data;

/// <summary>
/// Where a <see cref="DataLoader{T}"/> stands in its sequence of epochs: the shuffle seed, the epoch, and how many of
/// that epoch's batches have been consumed. Save it with a checkpoint and pass it to
/// <see cref="DataLoader{T}.SetState"/> to continue the same sequence of batches in a resumed run.
/// </summary>
public readonly record struct DataLoaderState(ulong Seed, int Epoch, int Batch);
