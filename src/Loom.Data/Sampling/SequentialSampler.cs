namespace Loom.Data;

/// <summary>0, 1, …, count−1 every epoch.</summary>
public sealed class SequentialSampler(int count) : ISampler
{
    public int Count { get; } = count >= 0 ? count : throw new ArgumentOutOfRangeException(nameof(count), count, "a sampler needs a count ≥ 0");

    public int[] Order(ulong seed, int epoch) => Enumerable.Range(0, Count).ToArray();
}
