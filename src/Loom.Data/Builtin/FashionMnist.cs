namespace Loom.Data;

/// <summary>
/// Fashion-MNIST (Zalando Research, MIT): 60,000 training and 10,000 test 28×28 grey images of clothing in 10
/// classes, read from the four gzipped IDX files that the Debian package <c>dataset-fashion-mnist</c> installs in
/// <see cref="DefaultFolder"/>, or from any folder holding the same files.
/// </summary>
public static class FashionMnist
{
    public const string Name = "fashion-mnist";
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";

    public static readonly IReadOnlyList<string> ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The four gzipped IDX files a Fashion-MNIST folder holds.</summary>
    public static readonly IReadOnlyList<string> Files =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    /// <summary>Whether all four files exist in <paramref name="folder"/> (default <see cref="DefaultFolder"/>).</summary>
    public static bool IsAvailable(string? folder = null) => Files.All(f => File.Exists(Path.Combine(folder ?? DefaultFolder, f)));

    public static DatasetInfo GetInfo(string? folder = null) => new(
        Name, "Zalando's Fashion-MNIST: clothing images, 10 classes", 60000, 10000, [1, 28, 28], ClassNames,
        "Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/*-ubyte.gz)", "MIT (Zalando SE)",
        folder ?? DefaultFolder, IsAvailable(folder));

    /// <summary>The standard 60,000/10,000 split, inputs Float32 [N, 1, 28, 28] in 0..1.</summary>
    public static DatasetSplit Load(string? folder = null)
    {
        folder ??= DefaultFolder;
        var missing = Files.Where(f => !File.Exists(Path.Combine(folder, f))).ToArray();
        if (missing.Length > 0)
            throw new FileNotFoundException(
                $"fashion-mnist: {string.Join(", ", missing)} not found in {folder}; install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass the folder holding the four IDX files");
        var train = Load(folder, "train");
        var test = Load(folder, "t10k");
        return new DatasetSplit(GetInfo(folder), train, test);
    }

    private static TensorDataset Load(string folder, string prefix)
    {
        string imagesPath = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), labelsPath = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        var images = IdxReader.ReadImages(imagesPath);
        var labels = IdxReader.ReadLabels(labelsPath);
        if (images.Shape[0] != labels.Shape[0])
            throw new InvalidDataException($"fashion-mnist: {imagesPath} holds {images.Shape[0]} images but {labelsPath} holds {labels.Shape[0]} labels");
        return new TensorDataset(ImageTensors.ToUnitFloat(images, 255), labels);
    }
}
