namespace Loom.Data;

/// <summary>
/// scikit-learn's digits (a copy of the test set of the UCI optical recognition of handwritten digits data, BSD-3 as
/// shipped by scikit-learn): 1,797 8×8 images with 17 grey levels (0..16). Read from <c>digits.csv.gz</c> of the
/// Debian package <c>python3-sklearn</c>, whose rows are 64 pixel values then the label, without a header.
/// </summary>
/// <remarks>The fixed split is stratified 80/20 with seed <see cref="SplitSeed"/> (1,438 training, 359 test).</remarks>
public static class SklearnDigits
{
    public const string Name = "sklearn-digits";
    public const string DefaultPath = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
    public const ulong SplitSeed = 1797;
    private const double TestFraction = 0.2;

    private static readonly string[] ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static bool IsAvailable(string? path = null) => File.Exists(path ?? DefaultPath);

    public static DatasetInfo GetInfo(string? path = null) => new(
        Name, "scikit-learn's 8×8 digits (UCI optical recognition of handwritten digits)", 1438, 359, [1, 8, 8], ClassNames,
        "Debian package python3-sklearn (sklearn/datasets/data/digits.csv.gz)", "BSD-3-Clause (scikit-learn)",
        path ?? DefaultPath, IsAvailable(path));

    /// <summary>The fixed stratified 80/20 split, inputs Float32 [N, 1, 8, 8] in 0..1 (pixel / 16).</summary>
    public static DatasetSplit Load(string? path = null)
    {
        path ??= DefaultPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"sklearn-digits: {path} not found; install the Debian package python3-sklearn or pass the path of digits.csv.gz");
        var table = CsvReader.Read(path, new CsvOptions { HasHeader = false });
        if (table.Columns.Count != 65)
            throw new InvalidDataException($"{path}: expected 65 columns (64 pixels and the label), found {table.Columns.Count}");
        var pixels = table.ToTensor(table.Columns.Take(64).Select(c => c.Name));
        var labels = table.Labels("64");
        var min = pixels.ToArray<float>().Min();
        var max = pixels.ToArray<float>().Max();
        if (min < 0 || max > 16) throw new InvalidDataException($"{path}: pixel values must lie in 0..16, found {min}..{max}");
        var images = ImageTensors.ToUnitFloat(pixels.Reshape(-1, 8, 8), 16);
        var all = new TensorDataset(images, labels);
        var split = Split.Stratified(labels, 0, TestFraction, SplitSeed);
        var info = GetInfo(path) with { TrainCount = split.Train.Length, TestCount = split.Test.Length };
        return new DatasetSplit(info, all.Gather(split.Train), all.Gather(split.Test));
    }
}
