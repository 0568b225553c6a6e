namespace Loom.Data;

/// <summary>
/// A finite, indexable collection of samples (PyTorch's map-style <c>Dataset</c>). Items may be computed on access
/// (decoded, augmented), so an indexer call can be expensive; a <see cref="DataLoader{T}"/> calls it from a background
/// worker to overlap that cost with training.
/// </summary>
/// <remarks>
/// Implementations must allow the indexer to be called from a thread other than the one that created the dataset.
/// </remarks>
public interface IDataset<out T>
{
    int Count { get; }

    /// <summary>The sample at <paramref name="index"/>, 0 ≤ index &lt; <see cref="Count"/>.</summary>
    T this[int index] { get; }
}
