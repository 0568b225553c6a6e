namespace Loom.Data;

/// <summary>
/// Samples that are rows of tensors held in memory: sample i is (inputs[i], targets[i]), like PyTorch's
/// <c>TensorDataset</c>. Both tensors must have the same first dimension, the sample count N.
/// </summary>
/// <remarks>
/// The tensors are made contiguous once, so a batch is a row copy per sample (see <see cref="Gather(ReadOnlySpan{int})"/>).
/// A dataset of inputs only (autoencoders, language models that shift their own targets) passes the same tensor twice.
/// </remarks>
public sealed class TensorDataset : IDataset<Sample>, IRowGather
{
    public TensorDataset(Tensor inputs, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Rank == 0 || targets.Rank == 0)
            throw new ArgumentException($"TensorDataset: inputs {inputs.Shape} and targets {targets.Shape} need a first dimension (the sample count)");
        if (inputs.Shape[0] != targets.Shape[0])
            throw new ArgumentException($"TensorDataset: inputs {inputs.Shape} and targets {targets.Shape} have different first dimensions ({inputs.Shape[0]} != {targets.Shape[0]})");
        // A dataset lives across training steps: copies made here must not return to the pool when a step's MemoryScope ends.
        using var persistent = Memory.MemoryScope.Persistent();
        Inputs = inputs.Detach().Contiguous();
        Targets = targets.Detach().Contiguous();
    }

    /// <summary>All inputs, [N, …].</summary>
    public Tensor Inputs { get; }

    /// <summary>All targets, [N, …].</summary>
    public Tensor Targets { get; }

    public int Count => Inputs.Shape[0];

    /// <summary>Views of row <paramref name="index"/> of the inputs and targets (no copy).</summary>
    public Sample this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"TensorDataset: index {index} is out of range for {Count} samples");
            return new Sample(Inputs.Select(0, index), Targets.Select(0, index));
        }
    }

    /// <summary>A new dataset holding copies of the rows at <paramref name="indices"/>, in that order.</summary>
    public TensorDataset Gather(ReadOnlySpan<int> indices)
    {
        using var persistent = Memory.MemoryScope.Persistent();
        return new(RowGather.Rows(Inputs, indices, "TensorDataset.Gather"), RowGather.Rows(Targets, indices, "TensorDataset.Gather"));
    }

    bool IRowGather.CanGather => true;

    Batch IRowGather.Gather(ReadOnlySpan<int> indices) =>
        new(RowGather.Rows(Inputs, indices, "DataLoader"), RowGather.Rows(Targets, indices, "DataLoader"));
}
