namespace Loom.Data;

/// <summary>
/// Images arranged one sub-folder per class (torchvision's <c>ImageFolder</c>): <c>root/cat/1.png</c>,
/// <c>root/dog/7.jpg</c>… Classes are the sub-folder names in ordinal order, and a sample is
/// (image [C, H, W] float32 in 0..1, class index as an Int64 scalar). Images are decoded on access, so a
/// <see cref="DataLoader{T}"/> with prefetch decodes the next batch while the current one trains.
/// </summary>
public sealed class ImageFolder : IDataset<Sample>
{
    /// <summary>File extensions (lower case) taken as images; other files are ignored.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    private readonly (string Path, int Label)[] _samples;

    /// <param name="root">The folder holding one sub-folder per class.</param>
    /// <param name="size">(height, width) every image is resized to, so that batches stack.</param>
    /// <param name="channels">1 for grayscale, 3 for RGB.</param>
    public ImageFolder(string root, (int Height, int Width) size, int channels = 3)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolder: folder '{root}' does not exist");
        if (size.Height < 1 || size.Width < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "ImageFolder: size must be positive");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "ImageFolder: channels must be 1 or 3");
        Root = root;
        Size = size;
        Channels = channels;
        Classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        var samples = new List<(string, int)>();
        for (int c = 0; c < Classes.Count; c++)
        {
            var files = Directory.EnumerateFiles(Path.Combine(root, Classes[c]), "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal);
            foreach (var f in files) samples.Add((f, c));
        }
        if (samples.Count == 0)
            throw new InvalidDataException($"ImageFolder: no images ({string.Join(", ", Extensions)}) in the class sub-folders of '{root}' ({Classes.Count} sub-folders)");
        _samples = [.. samples];
    }

    public string Root { get; }

    public (int Height, int Width) Size { get; }

    public int Channels { get; }

    /// <summary>Class names: the sub-folder names, in ordinal order; a sample's target indexes this list.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Every image path with its class index, in sample order.</summary>
    public IReadOnlyList<(string Path, int Label)> Samples => _samples;

    public int Count => _samples.Length;

    public Sample this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_samples.Length)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"ImageFolder: index {index} is out of range for {_samples.Length} images");
            var (path, label) = _samples[index];
            return new Sample(ImageReader.Read(path, Size, Channels), Tensor.Scalar(label, DType.Int64));
        }
    }

    /// <summary>The class index of every sample, without decoding any image (for stratified splits).</summary>
    public int[] Labels() => _samples.Select(s => s.Label).ToArray();
}
