namespace Loom.Data;

/// <summary>The samples of <see cref="Dataset"/> at <see cref="Indices"/>, in that order (e.g. one side of a split).</summary>
public sealed class Subset<T> : IDataset<T>, IRowGather
{
    private readonly int[] _indices;

    public Subset(IDataset<T> dataset, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(indices);
        Dataset = dataset;
        _indices = indices.ToArray();
        foreach (int i in _indices)
            if ((uint)i >= (uint)dataset.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Subset: index {i} is out of range for a dataset of {dataset.Count} samples");
    }

    public IDataset<T> Dataset { get; }

    public IReadOnlyList<int> Indices => _indices;

    public int Count => _indices.Length;

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_indices.Length)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Subset: index {index} is out of range for {_indices.Length} samples");
            return Dataset[_indices[index]];
        }
    }

    // A subset of a row dataset stays a row dataset: map the indices and let the parent copy the rows.
    bool IRowGather.CanGather => Dataset is IRowGather { CanGather: true };

    Batch IRowGather.Gather(ReadOnlySpan<int> indices)
    {
        var mapped = new int[indices.Length];
        for (int k = 0; k < mapped.Length; k++) mapped[k] = _indices[indices[k]];
        return ((IRowGather)Dataset).Gather(mapped);
    }
}
