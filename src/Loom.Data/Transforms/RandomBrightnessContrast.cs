namespace Loom.Data;

/// <summary>
/// Changes an image's contrast and brightness at random, as a different exposure would: y = clamp(m + c·(x − m) + b,
/// 0, 1) with m the image's mean, the contrast c log-uniform in [1/<see cref="Contrast"/>, <see cref="Contrast"/>]
/// and the brightness shift b uniform in ±<see cref="Brightness"/>, one draw per image (all channels alike).
/// </summary>
public sealed class RandomBrightnessContrast : RandomImageTransform
{
    public RandomBrightnessContrast(double brightness = 0.2, double contrast = 1.5, ulong seed = 0) : base(seed)
    {
        Brightness = InRange(nameof(RandomBrightnessContrast), nameof(brightness), brightness, 0, 1);
        if (!(contrast >= 1 && double.IsFinite(contrast))) throw new ArgumentOutOfRangeException(nameof(contrast), contrast, "RandomBrightnessContrast: contrast must be at least 1");
        Contrast = contrast;
    }

    public double Brightness { get; }

    public double Contrast { get; }

    protected override string Name => "RandomBrightnessContrast";

    protected override void TransformImage<T>(ReadOnlySpan<T> source, Span<T> destination, int channels, int height, int width)
    {
        double c = LogUniform(1 / Contrast, Contrast), b = Uniform(-Brightness, Brightness);
        double mean = 0;
        foreach (var v in source) mean += double.CreateChecked(v);
        mean /= source.Length;
        for (int i = 0; i < source.Length; i++)
            destination[i] = T.CreateChecked(Math.Clamp(mean + c * (double.CreateChecked(source[i]) - mean) + b, 0, 1));
    }
}
