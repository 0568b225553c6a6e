namespace Loom.Data;

/// <summary>Composition helpers: lazy mapping (transforms), subsets and concatenation.</summary>
public static class DatasetExtensions
{
    /// <summary>A dataset whose item i is <paramref name="map"/>(dataset[i]), computed on each access (augmentation draws anew each epoch).</summary>
    public static IDataset<TOut> Map<TIn, TOut>(this IDataset<TIn> dataset, Func<TIn, TOut> map) => new MappedDataset<TIn, TOut>(dataset, map);

    /// <summary>Applies <paramref name="transform"/> to each sample's input; targets pass through.</summary>
    public static IDataset<Sample> WithTransform(this IDataset<Sample> dataset, ITransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        return dataset.Map(s => s with { Input = transform.Apply(s.Input) });
    }

    public static Subset<T> Subset<T>(this IDataset<T> dataset, IReadOnlyList<int> indices) => new(dataset, indices);

    public static ConcatDataset<T> Concat<T>(this IDataset<T> first, params IDataset<T>[] others) => new([first, .. others]);

    private sealed class MappedDataset<TIn, TOut>(IDataset<TIn> dataset, Func<TIn, TOut> map) : IDataset<TOut>
    {
        private readonly IDataset<TIn> _dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        private readonly Func<TIn, TOut> _map = map ?? throw new ArgumentNullException(nameof(map));

        public int Count => _dataset.Count;

        public TOut this[int index] => _map(_dataset[index]);
    }
}
