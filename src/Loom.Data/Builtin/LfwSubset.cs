namespace Loom.Data;

/// <summary>
/// scikit-image's LFW subset: 100 grey 25×25 face crops from Labeled Faces in the Wild, then 100 non-face crops of the
/// same size, float64 in [0, 1] (<c>skimage/data/lfw_subset.npy</c> of the Debian package <c>python3-skimage</c>). The
/// classes are "non-face" (0) and "face" (1), so a face detector reads the face probability as class 1's.
/// </summary>
/// <remarks>The fixed split is stratified 80/20 with seed <see cref="SplitSeed"/> (160 training, 40 test).</remarks>
public static class LfwSubset
{
    public const string Name = "lfw-faces";
    public const string DefaultPath = "/usr/lib/python3/dist-packages/skimage/data/lfw_subset.npy";
    public const ulong SplitSeed = 25;

    /// <summary>The side of a crop: the window a face detector trained on it slides over a picture.</summary>
    public const int Side = 25;

    public const int NonFace = 0, Face = 1;
    private const int Faces = 100, Images = 200;
    private const double TestFraction = 0.2;

    private static readonly string[] ClassNames = ["non-face", "face"];

    public static bool IsAvailable(string? path = null) => File.Exists(path ?? DefaultPath);

    public static DatasetInfo GetInfo(string? path = null) => new(
        Name, "scikit-image's LFW subset: 25×25 grey face and non-face crops", 160, 40, [1, Side, Side], ClassNames,
        "Debian package python3-skimage (skimage/data/lfw_subset.npy)", "LFW: research use (University of Massachusetts); scikit-image BSD-3-Clause",
        path ?? DefaultPath, IsAvailable(path));

    /// <summary>The fixed stratified 80/20 split, inputs Float32 [N, 1, 25, 25] in 0..1.</summary>
    public static DatasetSplit Load(string? path = null)
    {
        path ??= DefaultPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"lfw-faces: {path} not found; install the Debian package python3-skimage or pass the path of lfw_subset.npy");
        var all = Read(path);
        var split = Split.Stratified(all.Targets, 0, TestFraction, SplitSeed);
        var info = GetInfo(path) with { TrainCount = split.Train.Length, TestCount = split.Test.Length };
        return new DatasetSplit(info, all.Gather(split.Train), all.Gather(split.Test));
    }

    /// <summary>All 200 crops in file order (faces first) with their classes.</summary>
    public static TensorDataset Read(string path)
    {
        var array = NpyReader.Read(path);
        if (array.Shape.ToArray() is not [Images, Side, Side])
            throw new InvalidDataException($"{path}: expected an array of shape ({Images}, {Side}, {Side}) (100 faces then 100 non-faces), found {array.Shape}");
        var pixels = array.To(DType.Float32).ToArray<float>();
        if (pixels.Any(v => !(v >= 0 && v <= 1)))
            throw new InvalidDataException($"{path}: pixel values must lie in [0, 1], found {pixels.Min()}..{pixels.Max()}");
        var labels = Enumerable.Range(0, Images).Select(i => (long)(i < Faces ? Face : NonFace)).ToArray();
        return new TensorDataset(Tensor.FromArray(pixels, Images, 1, Side, Side), Tensor.FromArray(labels));
    }
}
