namespace Loom.Data;

/// <summary>A new random permutation of 0..count−1 each epoch, a function of (seed, epoch) only.</summary>
public sealed class RandomSampler(int count) : ISampler
{
    public int Count { get; } = count >= 0 ? count : throw new ArgumentOutOfRangeException(nameof(count), count, "a sampler needs a count ≥ 0");

    public int[] Order(ulong seed, int epoch) =>
        // The golden-ratio step spreads consecutive epochs over the seed space; Generator's SplitMix seeding
        // decorrelates the streams.
        new Generator(unchecked(seed + (ulong)(epoch + 1) * 0x9E3779B97F4A7C15UL)).Permutation(Count);
}
