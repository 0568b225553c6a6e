using System.Numerics;

namespace Loom.Data;

/// <summary>Mirrors an image left–right with probability <see cref="Probability"/>: y[c, i, j] = x[c, i, W−1−j].</summary>
public sealed class RandomHorizontalFlip : ImageTransform
{
    public RandomHorizontalFlip(double probability = 0.5, ulong seed = 0)
    {
        Probability = InRange(nameof(RandomHorizontalFlip), nameof(probability), probability, 0, 1);
        Generator = new Generator(seed);
    }

    public double Probability { get; }

    /// <summary>The transform's own generator; save its state to resume augmentation exactly.</summary>
    public Generator Generator { get; }

    protected override string Name => "RandomHorizontalFlip";

    protected override void TransformImage<T>(ReadOnlySpan<T> source, Span<T> destination, int channels, int height, int width)
    {
        source.CopyTo(destination);
        if (Generator.NextDouble() >= Probability) return;
        for (int row = 0; row < channels * height; row++) destination.Slice(row * width, width).Reverse();
    }
}
