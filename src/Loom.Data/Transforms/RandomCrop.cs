using System.Numerics;

namespace Loom.Data;

/// <summary>
/// Pads an image with <see cref="Padding"/> pixels of <see cref="Fill"/> on every side, then cuts a random
/// <see cref="Height"/>×<see cref="Width"/> window (torchvision's <c>RandomCrop(size, padding)</c>, the standard
/// CIFAR/MNIST shift augmentation): y[c, i, j] = padded(x)[c, top + i, left + j].
/// </summary>
public sealed class RandomCrop : ImageTransform
{
    /// <param name="size">(height, width) of the crop.</param>
    /// <param name="padding">Pixels of <paramref name="fill"/> added on every side before cropping.</param>
    public RandomCrop((int Height, int Width) size, int padding = 0, double fill = 0, ulong seed = 0)
    {
        if (size.Height < 1 || size.Width < 1) throw new ArgumentException($"RandomCrop: crop size {size.Height}×{size.Width} must be positive");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "RandomCrop: padding must be non-negative");
        (Height, Width, Padding, Fill) = (size.Height, size.Width, padding, fill);
        Generator = new Generator(seed);
    }

    /// <summary>A square crop of <paramref name="size"/>×<paramref name="size"/>.</summary>
    public RandomCrop(int size, int padding = 0, double fill = 0, ulong seed = 0) : this((size, size), padding, fill, seed) { }

    public int Height { get; }

    public int Width { get; }

    public int Padding { get; }

    public double Fill { get; }

    public Generator Generator { get; }

    protected override string Name => "RandomCrop";

    protected override (int Height, int Width) OutputSize(int height, int width)
    {
        if (height + 2 * Padding < Height || width + 2 * Padding < Width)
            throw new ArgumentException($"RandomCrop: a {Height}×{Width} crop does not fit in a {height}×{width} image padded by {Padding}");
        return (Height, Width);
    }

    protected override void TransformImage<T>(ReadOnlySpan<T> source, Span<T> destination, int channels, int height, int width)
    {
        // Window origin in unpadded coordinates: may be negative (inside the padding).
        int top = Generator.NextInt(0, height + 2 * Padding - Height + 1) - Padding;
        int left = Generator.NextInt(0, width + 2 * Padding - Width + 1) - Padding;
        T fill = T.CreateChecked(Fill);
        int x0 = Math.Max(0, -left), x1 = Math.Min(Width, width - left); // output columns that read the image
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < Height; i++)
            {
                var row = destination.Slice((c * Height + i) * Width, Width);
                int y = top + i;
                if (y < 0 || y >= height || x1 <= x0)
                {
                    row.Fill(fill);
                    continue;
                }
                row[..x0].Fill(fill);
                source.Slice((c * height + y) * width + left + x0, x1 - x0).CopyTo(row[x0..x1]);
                row[x1..].Fill(fill);
            }
        }
    }
}
