namespace Loom.Models;

/// <summary>
/// The training-image augmentations `--augment` names, in the order they are applied: crop (pad by 1/8 of the size,
/// at least one pixel, and cut a random window of the original size: a shift), flip (mirror left–right half the time:
/// right for clothes and photos, wrong for digits and text, so never a default), erase (torchvision's random
/// erasing, half the time), jitter (a small random rotation, shift and scale: ±8°, ±6 % of the size, ×0.9–1.1, the
/// corners filled with mid-grey; what a face detector's window sees of a face slightly off its grid) and light (a
/// random contrast ×1/1.5–1.5 and brightness ±0.2, for photos taken in other light). Validation and test images are never augmented.
/// </summary>
/// <remarks>
/// The transforms own generators seeded from the run's seed and draw in the order the one data-loading worker loads
/// samples, so a run is reproducible; a resumed run starts them afresh, so it sees other (equally random) augmentations
/// than an uninterrupted run would have.
/// </remarks>
public static class ImageAugmentation
{
    public static IReadOnlyList<string> Names { get; } = ["crop", "flip", "erase", "jitter", "light"];

    /// <summary>The transform for images of <paramref name="height"/>×<paramref name="width"/>, or null when <paramref name="names"/> is empty.</summary>
    public static ITransform? Create(IReadOnlyCollection<string> names, int height, int width, ulong seed)
    {
        var transforms = new List<ITransform>();
        // Distinct seeds, so the flip's coin is not the crop's offset.
        if (names.Contains("crop")) transforms.Add(new RandomCrop((height, width), padding: Math.Max(1, Math.Min(height, width) / 8), seed: seed));
        if (names.Contains("flip")) transforms.Add(new RandomHorizontalFlip(seed: seed + 1));
        if (names.Contains("erase")) transforms.Add(new RandomErasing(seed: seed + 2));
        if (names.Contains("jitter")) transforms.Add(new RandomAffine(8, translate: (0.06, 0.06), scale: (0.9, 1.1), fill: 0.5, seed: seed + 3));
        if (names.Contains("light")) transforms.Add(new RandomBrightnessContrast(seed: seed + 4));
        return transforms.Count == 0 ? null : new Compose([.. transforms]);
    }
}
