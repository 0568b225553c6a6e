namespace Loom.Data;

/// <summary>Several datasets one after the other: indices 0..n₀-1 address the first, n₀..n₀+n₁-1 the second, and so on.</summary>
public sealed class ConcatDataset<T> : IDataset<T>
{
    private readonly IDataset<T>[] _parts;
    private readonly int[] _ends; // _ends[k] = total count of parts 0..k

    public ConcatDataset(params IDataset<T>[] datasets)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        _parts = datasets.ToArray();
        _ends = new int[_parts.Length];
        long total = 0;
        for (int k = 0; k < _parts.Length; k++)
        {
            ArgumentNullException.ThrowIfNull(_parts[k], $"datasets[{k}]");
            total += _parts[k].Count;
            if (total > int.MaxValue) throw new ArgumentException($"ConcatDataset: {total} samples in total exceeds the limit of {int.MaxValue}");
            _ends[k] = (int)total;
        }
    }

    public IReadOnlyList<IDataset<T>> Datasets => _parts;

    public int Count => _ends.Length == 0 ? 0 : _ends[^1];

    public T this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"ConcatDataset: index {index} is out of range for {Count} samples");
            // First part whose end lies beyond index; empty parts have end == previous end and are skipped.
            int k = Array.BinarySearch(_ends, index);
            k = k >= 0 ? k + 1 : ~k;
            while (_ends[k] == index) k++;
            int start = k == 0 ? 0 : _ends[k - 1];
            return _parts[k][index - start];
        }
    }
}
