namespace Loom.Data;

/// <summary>
/// With probability <see cref="Probability"/>, fills one random rectangle of the image with <see cref="Value"/> in every
/// channel (Zhong et al. 2017, torchvision's <c>RandomErasing</c>): its area is a uniform fraction of the image in
/// <see cref="Scale"/>, its aspect ratio (height / width) log-uniform in <see cref="Ratio"/>. A draw that does not fit
/// is retried up to 10 times, then the image is left whole, as torchvision does.
/// </summary>
public sealed class RandomErasing(double probability = 0.5, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null, double value = 0,
    ulong seed = 0) : RandomImageTransform(seed)
{
    public double Probability { get; } = InRange(nameof(RandomErasing), nameof(probability), probability, 0, 1);

    /// <summary>The erased area as a fraction of the image's.</summary>
    public (double Min, double Max) Scale { get; } = PositiveRange(nameof(RandomErasing), nameof(scale), scale ?? (0.02, 0.33), upper: 1);

    /// <summary>Height over width of the erased rectangle.</summary>
    public (double Min, double Max) Ratio { get; } = PositiveRange(nameof(RandomErasing), nameof(ratio), ratio ?? (0.3, 3.3));

    public double Value { get; } = value;

    protected override string Name => "RandomErasing";

    protected override void TransformImage<T>(ReadOnlySpan<T> source, Span<T> destination, int channels, int height, int width)
    {
        source.CopyTo(destination);
        if (Generator.NextDouble() >= Probability) return;
        double area = (double)height * width;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * Uniform(Scale.Min, Scale.Max);
            double aspect = LogUniform(Ratio.Min, Ratio.Max);
            int h = (int)Math.Round(Math.Sqrt(target * aspect)), w = (int)Math.Round(Math.Sqrt(target / aspect));
            if (h < 1 || w < 1 || h > height || w > width) continue;
            int top = Generator.NextInt(0, height - h + 1), left = Generator.NextInt(0, width - w + 1);
            T fill = T.CreateChecked(Value);
            for (int c = 0; c < channels; c++)
                for (int i = top; i < top + h; i++)
                    destination.Slice((c * height + i) * width + left, w).Fill(fill);
            return;
        }
    }
}
