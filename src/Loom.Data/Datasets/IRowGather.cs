namespace Loom.Data;

/// <summary>
/// A dataset whose samples are rows of tensors can build a batch by copying rows straight into the batch tensors,
/// without a per-sample view and collate step. <see cref="DataLoader{T}"/> uses this when no custom collate is given.
/// </summary>
internal interface IRowGather
{
    /// <summary>False when the rows cannot be gathered directly after all (a subset of a computed dataset).</summary>
    bool CanGather { get; }

    Batch Gather(ReadOnlySpan<int> indices);
}
