namespace Loom.Data.Tests.Builtin;

public class BuiltinDatasetTests
{
    [Fact]
    public void Embedded_digits_hold_10000_real_28x28_digits_of_every_class()
    {
        var (images, labels) = Digits.LoadAll();
        Assert.Equal(new Shape(10000, 28, 28), images.Shape);
        Assert.Equal(DType.UInt8, images.DType);
        var l = labels.ToArray<long>();
        var counts = Enumerable.Range(0, 10).Select(c => l.Count(v => v == c)).ToArray();
        Assert.Equal(10000, counts.Sum());
        Assert.All(counts, n => Assert.InRange(n, 800, 1200));
        // Real digits: dark borders, ink in the middle, a spread of grey levels.
        var px = images.ToArray<byte>();
        double border = Enumerable.Range(0, 10000).Average(i => (double)px[i * 784]);
        double mean = px.Average(b => (double)b);
        Assert.Equal(0, border);
        Assert.InRange(mean, 20, 50);
        Assert.True(px.Distinct().Count() > 200);
    }

    [Fact]
    public void Digits_split_is_fixed_stratified_and_scaled_to_unit_floats()
    {
        var split = BuiltinDatasets.Load("digits");
        Assert.Equal(8000, split.Train.Count);
        Assert.Equal(2000, split.Test.Count);
        Assert.Equal(new Shape(8000, 1, 28, 28), split.Train.Inputs.Shape);
        Assert.Equal(DType.Float32, split.Train.Inputs.DType);
        Assert.Equal(DType.Int64, split.Test.Targets.DType);
        var x = split.Test.Inputs.ToArray<float>();
        Assert.Equal(0, x.Min());
        Assert.Equal(1, x.Max());
        var train = split.Train.Targets.ToArray<long>();
        var test = split.Test.Targets.ToArray<long>();
        for (int c = 0; c < 10; c++)
        {
            int nTrain = train.Count(v => v == c), nTest = test.Count(v => v == c);
            Assert.InRange(nTest, Math.Floor((nTrain + nTest) * 0.2), Math.Ceiling((nTrain + nTest) * 0.2));
        }
        var again = Digits.Load();
        Assert.Equal(test, again.Test.Targets.ToArray<long>());
        Assert.Equal(x, again.Test.Inputs.ToArray<float>());
    }

    [Fact]
    public void Registry_lists_every_dataset_with_source_licence_and_availability()
    {
        var list = BuiltinDatasets.List();
        Assert.Equal(new[] { "digits", "fashion-mnist", "sklearn-digits", "lfw-faces" }, list.Select(d => d.Name));
        Assert.All(list, d =>
        {
            Assert.False(string.IsNullOrWhiteSpace(d.Source));
            Assert.False(string.IsNullOrWhiteSpace(d.Licence));
            Assert.True(d.Size > 0);
        });
        Assert.Equal(BuiltinDatasets.Default, list.Single(d => d.IsAvailable && d.Location.Contains("embedded")).Name);
        Assert.Contains("MIT", BuiltinDatasets.Info("digits").Licence);
        Assert.Equal(FashionMnist.IsAvailable(), BuiltinDatasets.Info("Fashion_MNIST").IsAvailable);
        TensorAssert.Throws<ArgumentException>(() => BuiltinDatasets.Load("cifar-10"), "cifar-10", "digits", "fashion-mnist");
    }

    [FashionMnistFact]
    public void Fashion_mnist_loads_60000_and_10000_images_when_installed()
    {
        TestDatasets.FashionMnist.Require();
        var split = BuiltinDatasets.Load("fashion-mnist");
        Assert.Equal(new Shape(60000, 1, 28, 28), split.Train.Inputs.Shape);
        Assert.Equal(new Shape(10000, 1, 28, 28), split.Test.Inputs.Shape);
        var labels = split.Test.Targets.ToArray<long>();
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, labels.Count(v => v == c))); // t10k has exactly 1,000 per class
        Assert.Equal(10, split.Info.ClassNames.Count);
    }

    [Fact]
    public void Fashion_mnist_reads_any_folder_and_names_missing_files()
    {
        using var dir = new TempDir();
        TensorAssert.Throws<FileNotFoundException>(() => FashionMnist.Load(dir.Path), "train-images-idx3-ubyte.gz", dir.Path, "dataset-fashion-mnist");
        foreach (var prefix in new[] { "train", "t10k" })
        {
            IdxWriter.Write(Path.Combine(dir.Path, $"{prefix}-images-idx3-ubyte.gz"), Tensor.Full(new Shape(3, 28, 28), 255, DType.UInt8), gzip: true);
            IdxWriter.Write(Path.Combine(dir.Path, $"{prefix}-labels-idx1-ubyte.gz"), Tensor.FromArray(new byte[] { 0, 9, 4 }), gzip: true);
        }
        Assert.True(FashionMnist.IsAvailable(dir.Path));
        var split = BuiltinDatasets.Load("fashion-mnist", dir.Path);
        Assert.Equal(3, split.Train.Count);
        Assert.All(split.Test.Inputs.ToArray<float>(), v => Assert.Equal(1f, v));
        Assert.Equal(new long[] { 0, 9, 4 }, split.Train.Targets.ToArray<long>());
    }

    [Fact]
    public void Sklearn_digits_read_the_csv_layout_of_scikit_learn()
    {
        using var dir = new TempDir();
        var path = dir.File("digits.csv.gz");
        var lines = Enumerable.Range(0, 50).Select(i => string.Join(",", Enumerable.Range(0, 64).Select(p => (p + i) % 17)) + "," + i % 10);
        using (var gz = new System.IO.Compression.GZipStream(File.Create(path), System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(System.Text.Encoding.ASCII.GetBytes(string.Join("\n", lines) + "\n"));
        var split = SklearnDigits.Load(path);
        Assert.Equal(40, split.Train.Count);
        Assert.Equal(10, split.Test.Count);
        Assert.Equal(new Shape(40, 1, 8, 8), split.Train.Inputs.Shape);
        Assert.Equal(1f, split.Train.Inputs.ToArray<float>().Max());
    }

    [SklearnDigitsFact]
    public void Sklearn_digits_load_1797_images_when_installed()
    {
        TestDatasets.SklearnDigits.Require();
        var split = BuiltinDatasets.Load("sklearn-digits");
        Assert.Equal(1797, split.Info.Size);
        Assert.Equal(1797, split.Train.Count + split.Test.Count);
        Assert.Equal(new Shape(1, 8, 8), new Shape(split.Info.InputShape));
    }

    // The layout of skimage's file: float64 (200, 25, 25), the faces first.
    private static void WriteLfwLike(string path, Func<int, int, double> pixel, int images = 200)
    {
        var values = new double[images * 25 * 25];
        for (int i = 0; i < values.Length; i++) values[i] = pixel(i / 625, i % 625);
        NpyWriter.Write(path, Tensor.FromArray(values, images, 25, 25));
    }

    [Fact]
    public void Lfw_faces_label_the_first_100_crops_faces_and_split_them_80_20_stratified()
    {
        using var dir = new TempDir();
        var path = dir.File("lfw_subset.npy");
        // Each crop's pixels carry its index, so the labels can be checked against the file order.
        WriteLfwLike(path, (image, _) => image / 200.0);
        var split = LfwSubset.Load(path);
        Assert.Equal((160, 40), (split.Train.Count, split.Test.Count));
        Assert.Equal(new Shape(160, 1, 25, 25), split.Train.Inputs.Shape);
        Assert.Equal(new[] { "non-face", "face" }, split.Info.ClassNames);
        foreach (var part in new[] { split.Train, split.Test })
        {
            var x = part.Inputs.ToArray<float>();
            var y = part.Targets.ToArray<long>();
            for (int n = 0; n < part.Count; n++)
                Assert.Equal(x[n * 625] < 100 / 200.0 ? LfwSubset.Face : LfwSubset.NonFace, y[n]);
            Assert.Equal(part.Count / 2, y.Count(v => v == LfwSubset.Face));
        }
        Assert.Equal(split.Test.Targets.ToArray<long>(), LfwSubset.Load(path).Test.Targets.ToArray<long>());
    }

    [Fact]
    public void Lfw_faces_name_the_file_when_its_shape_values_or_header_are_wrong()
    {
        using var dir = new TempDir();
        var path = dir.File("lfw_subset.npy");
        WriteLfwLike(path, (_, _) => 0.5, images: 199);
        TensorAssert.Throws<InvalidDataException>(() => LfwSubset.Load(path), path, "(200, 25, 25)", "199");
        WriteLfwLike(path, (image, p) => image == 7 && p == 3 ? 1.5 : 0.5);
        TensorAssert.Throws<InvalidDataException>(() => LfwSubset.Load(path), path, "[0, 1]");
        // A header cut short: the file ends inside the dict literal.
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);
        TensorAssert.Throws<InvalidDataException>(() => LfwSubset.Load(path), path, "truncated");
        TensorAssert.Throws<FileNotFoundException>(() => LfwSubset.Load(dir.File("none.npy")), "none.npy", "python3-skimage");
    }

    [LfwSubsetFact]
    public void Lfw_faces_load_scikit_images_200_crops_when_installed()
    {
        TestDatasets.LfwSubset.Require();
        var split = BuiltinDatasets.Load("lfw-faces");
        Assert.Equal(200, split.Train.Count + split.Test.Count);
        var x = split.Train.Inputs.ToArray<float>();
        Assert.InRange(x.Min(), 0f, 0.05f);
        Assert.InRange(x.Max(), 0.95f, 1f);
    }
}
