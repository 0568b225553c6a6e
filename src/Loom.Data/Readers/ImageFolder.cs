namespace Loom.Data;

/// <summary>
/// Images arranged one sub-folder per class (torchvision's <c>ImageFolder</c>): <c>root/cat/1.png</c>,
/// <c>root/dog/7.jpg</c>… Classes are the sub-folder names in ordinal order, or a given class list (a trained model's),
/// and a sample is (image [C, H, W] float32 in 0..1, class index as an Int64 scalar). Images are decoded on access, so
/// a <see cref="DataLoader{T}"/> with prefetch decodes the next batch while the current one trains.
/// </summary>
/// <remarks>
/// A folder already split into <c>train/</c> and <c>test/</c> (or <c>val/</c>), each holding the class folders, is read
/// with <see cref="FindSplits"/>; the constructor refuses it rather than take "train" and "test" for two classes.
/// </remarks>
public sealed class ImageFolder : IDataset<Sample>
{
    /// <summary>File extensions (lower case) taken as images; other files are ignored.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>Folder names (any case) that <see cref="FindSplits"/> reads as the training, validation and test splits.</summary>
    public static readonly IReadOnlyList<string> TrainNames = ["train", "training"], ValidationNames = ["val", "valid", "validation"], TestNames = ["test", "testing"];

    private readonly (string Path, int Label)[] _samples;

    /// <param name="root">The folder holding one sub-folder per class.</param>
    /// <param name="size">(height, width) every image is resized to, so that batches stack.</param>
    /// <param name="channels">1 for grayscale, 3 for RGB.</param>
    /// <param name="classes">
    /// The class names in label order, e.g. those a model was trained with: sub-folders are matched to them by name
    /// (a class may have no folder here; a folder that is not a class is an error). Null: the sub-folders, sorted.
    /// </param>
    public ImageFolder(string root, (int Height, int Width) size, int channels = 3, IReadOnlyList<string>? classes = null)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolder: folder '{root}' does not exist");
        ImageReader.CheckSize(size, "ImageFolder");
        if (channels is not (1 or 3)) throw new ArgumentException($"ImageFolder: channels must be 1 or 3, got {channels}");
        Root = root;
        Size = size;
        Channels = channels;
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes is null)
        {
            if (Splits(root) is { } split)
                throw new InvalidDataException($"ImageFolder: '{root}' is split into {string.Join(" and ", split.Select(s => s + "/"))}, not classes: " +
                    "read it with ImageFolder.FindSplits, or point at one split's folder");
            Classes = folders;
        }
        else
        {
            var duplicate = classes.GroupBy(c => c).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw new ArgumentException($"ImageFolder: class '{duplicate.Key}' is listed more than once");
            var unknown = folders.Where(f => !classes.Contains(f)).ToArray();
            if (unknown.Length > 0)
                throw new InvalidDataException($"ImageFolder: '{root}' has {(unknown.Length == 1 ? "a folder" : "folders")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} " +
                    $"that {(unknown.Length == 1 ? "is not a class" : "are not classes")} of the {classes.Count} given ({string.Join(", ", classes)})");
            Classes = classes.ToArray();
        }
        var samples = new List<(string, int)>();
        for (int c = 0; c < Classes.Count; c++)
        {
            var folder = Path.Combine(root, Classes[c]);
            if (!Directory.Exists(folder)) continue;
            var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f)))
                .Order(StringComparer.Ordinal);
            foreach (var f in files) samples.Add((f, c));
        }
        if (samples.Count == 0)
            throw new InvalidDataException($"ImageFolder: no images ({string.Join(", ", Extensions)}) in the class sub-folders of '{root}' ({folders.Length} sub-folders)");
        _samples = [.. samples];
    }

    /// <summary>
    /// Reads a folder split into <c>train/</c> and <c>test/</c> and/or <c>val/</c> folders (see <see cref="TrainNames"/>,
    /// <see cref="ValidationNames"/>, <see cref="TestNames"/>), each holding one sub-folder per class, as the splits it
    /// already is. The classes are <paramref name="classes"/> when given (a trained model's), else the training split's
    /// sub-folders; a folder in any split that is not one of them is an error. Null when <paramref name="root"/> is not
    /// laid out so (an ordinary class-per-folder root).
    /// </summary>
    public static ImageFolderSplits? FindSplits(string root, (int Height, int Width) size, int channels = 3, IReadOnlyList<string>? classes = null)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolder: folder '{root}' does not exist");
        if (Splits(root) is not { } split) return null;
        string? Find(IReadOnlyList<string> names) => split.FirstOrDefault(s => names.Contains(s, StringComparer.OrdinalIgnoreCase));
        var train = new ImageFolder(Path.Combine(root, Find(TrainNames)!), size, channels, classes);
        ImageFolder? Other(IReadOnlyList<string> names)
        {
            var name = Find(names);
            if (name is null) return null;
            var folder = Path.Combine(root, name);
            if (Directory.GetDirectories(folder).Length == 0)
                throw new InvalidDataException($"ImageFolder: '{folder}' holds no class folders, so its images have no labels; put them in one folder per class, or remove it");
            return new ImageFolder(folder, size, channels, train.Classes);
        }
        return new ImageFolderSplits(train, Other(ValidationNames), Other(TestNames));
    }

    /// <summary>
    /// The split folders of <paramref name="root"/> when its sub-folders are a training split holding class folders and
    /// a validation and/or test split; null otherwise. Split folders beside other folders, or two folders for one split,
    /// are an error: the layout is ambiguous.
    /// </summary>
    private static string[]? Splits(string root)
    {
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        string[] Named(IReadOnlyList<string> names) => folders.Where(f => names.Contains(f, StringComparer.OrdinalIgnoreCase)).ToArray();
        var (train, validation, test) = (Named(TrainNames), Named(ValidationNames), Named(TestNames));
        if (train.Length == 0 || validation.Length + test.Length == 0) return null;
        if (Directory.GetDirectories(Path.Combine(root, train[0])).Length == 0) return null; // train/ holds images: a class named "train"
        foreach (var same in new[] { train, validation, test })
            if (same.Length > 1) throw new InvalidDataException($"ImageFolder: '{root}' has {string.Join(" and ", same.Select(s => s + "/"))}: which one is the split?");
        string[] split = [.. train, .. validation, .. test];
        var others = folders.Except(split).ToArray();
        if (others.Length > 0)
            throw new InvalidDataException($"ImageFolder: '{root}' mixes the split folders {string.Join(", ", split.Select(s => s + "/"))} with other folders ({string.Join(", ", others.Select(s => s + "/"))}); " +
                "keep only the splits, each holding one folder per class");
        return split;
    }

    public string Root { get; }

    public (int Height, int Width) Size { get; }

    public int Channels { get; }

    /// <summary>Class names in label order: the given classes, or the sub-folder names in ordinal order; a sample's target indexes this list.</summary>
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

/// <summary>An image folder's own splits (see <see cref="ImageFolder.FindSplits"/>), all labelled with the training split's classes.</summary>
/// <param name="Train">The training split; its sub-folders are the classes.</param>
/// <param name="Validation">The validation split, when the folder has one.</param>
/// <param name="Test">The test split, when the folder has one.</param>
public sealed record ImageFolderSplits(ImageFolder Train, ImageFolder? Validation, ImageFolder? Test);
