using Loom.Data;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// A classification data set ready for training: train and test splits as tensors, the shape of one input, the class
/// names, and (for tabular data) the standardisation fitted on the training rows.
/// </summary>
public sealed class ClassificationData : TaskData
{
    private const string StandardizeFile = "standardize.json";

    // Tables keep their rows as read, so that a cross-validation fold can refit the standardisation on its own rows.
    private readonly TensorDataset? _unscaledTrain;

    public ClassificationData(TensorDataset train, TensorDataset test, int[] inputShape, IReadOnlyList<string> classNames, string description)
    {
        (Train, Test, InputShape, ClassNames, Description) = (train, test, inputShape, classNames, description);
    }

    private ClassificationData(TensorDataset unscaledTrain, TensorDataset unscaledTest, Standardize standardizer, IReadOnlyList<string> classNames, string description)
        : this(new TensorDataset(standardizer.Apply(unscaledTrain.Inputs), unscaledTrain.Targets),
            new TensorDataset(standardizer.Apply(unscaledTest.Inputs), unscaledTest.Targets),
            unscaledTrain.Inputs.Shape.ToArray()[1..], classNames, description)
    {
        _unscaledTrain = unscaledTrain;
        Standardizer = standardizer;
    }

    public override TensorDataset Train { get; }

    public override TensorDataset Test { get; }

    /// <summary>The shape of one input, without the batch dimension.</summary>
    public int[] InputShape { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public override string Description { get; }

    /// <summary>For tabular data: the standardisation applied to <see cref="Train"/> and <see cref="Test"/>.</summary>
    public Standardize? Standardizer { get; }

    public override Tensor Strata => Train.Targets;

    public override void Save(RunFolder folder) => Standardizer?.Save(folder.File(StandardizeFile));

    public override ClassificationData Fold(int[] train, int[] validation)
    {
        if (_unscaledTrain is null) return new ClassificationData(Train.Gather(train), Train.Gather(validation), InputShape, ClassNames, Description);
        var foldTrain = _unscaledTrain.Gather(train);
        return new ClassificationData(foldTrain, _unscaledTrain.Gather(validation), Standardize.Fit(foldTrain.Inputs), ClassNames, Description);
    }

    /// <summary>
    /// What kind of data <paramref name="data"/> is, if classification reads it: a built-in dataset name, a CSV file, an
    /// image folder with one sub-folder per class, or a folder holding <c>train-</c>/<c>t10k-</c> IDX files.
    /// </summary>
    public static DataKind? Recognize(string data)
    {
        if (BuiltinDatasets.Names.Contains(data, StringComparer.OrdinalIgnoreCase)) return DataKind.Images;
        if (File.Exists(data) && (data.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || data.EndsWith(".csv.gz", StringComparison.OrdinalIgnoreCase)))
            return DataKind.Table;
        // Any folder: one without IDX files is read as an image folder, which says what is wrong with it if it is not.
        return Directory.Exists(data) ? DataKind.Images : null;
    }

    /// <summary>
    /// Loads <see cref="TrainingConfig.Data"/> (see <see cref="Recognize"/>). CSV and image-folder data are split 80/20
    /// (stratified, seeded) into train and test.
    /// </summary>
    /// <param name="standardizer">For tabular data: the statistics to apply (a trained run's), instead of fitting them on the training rows.</param>
    public static ClassificationData Load(TrainingConfig config, Standardize? standardizer = null)
    {
        string data = config.Data;
        var options = config.GetTaskOptions<ClassificationOptions>();
        if (BuiltinDatasets.Names.Contains(data, StringComparer.OrdinalIgnoreCase))
        {
            var split = BuiltinDatasets.Load(data);
            return new ClassificationData(split.Train, split.Test, split.Info.InputShape, split.Info.ClassNames, $"{split.Info.Name} ({split.Info.Source})");
        }
        if (Recognize(data) == DataKind.Table) return FromCsv(data, options, config.Seed, standardizer);
        if (Directory.Exists(data))
        {
            if (IdxFiles(data) is { } idx) return FromIdx(data, idx);
            return FromImageFolder(data, options, config.Seed);
        }
        if (File.Exists(data))
            throw new ArgumentException($"--data {data}: unsupported file type; give {ClassificationTask.Accepted}");
        throw new FileNotFoundException($"--data {data}: no such built-in dataset, file or folder (built-in: {string.Join(", ", BuiltinDatasets.Names)})", data);
    }

    /// <summary>The standardisation a trained run saved (tabular runs), to read new data the way its training data was read.</summary>
    public static Standardize? SavedStandardizer(RunFolder folder)
    {
        var path = folder.File(StandardizeFile);
        return File.Exists(path) ? Standardize.Load(path) : null;
    }

    private static ClassificationData FromCsv(string path, ClassificationOptions options, ulong seed, Standardize? standardizer)
    {
        if (options.Target is not { } target) throw new ArgumentException($"--data {path} is a CSV file: name its label column with --target COLUMN");
        var table = CsvReader.Read(path);
        if (!table.Columns.Any(c => c.Name == target))
            throw new ArgumentException($"--target {target}: {path} has no such column (columns: {string.Join(", ", table.Columns.Select(c => c.Name))})");
        var labelColumn = table[target];
        var labels = table.Labels(target);
        var features = table.Columns.Where(c => c.Name != target).Select(c => c.Name).ToList();
        if (features.Count == 0) throw new ArgumentException($"{path}: no feature columns besides the target '{target}'");
        if (table.Missing.Any(m => m.Column != target))
        {
            var m = table.Missing.First(m => m.Column != target);
            throw new InvalidDataException($"{path}: {table.Missing.Count(x => x.Column != target)} missing values, the first in column '{m.Column}' at line {m.Line}; fill or drop them first");
        }
        var x = table.ToTensor(features).To(DType.Float32);
        var (y, classNames) = EncodeLabels(labels, labelColumn.Type == CsvColumnType.Categorical ? labelColumn.Categories : null);
        // Hold out 20% as the test split; the trainer later holds out its own validation part of the rest.
        var split = Split.Stratified(y, validationFraction: 0, testFraction: 0.2, seed: seed);
        var train = new TensorDataset(x, y).Gather(split.Train);
        var test = new TensorDataset(x, y).Gather(split.Test);
        var standardize = standardizer ?? Standardize.Fit(train.Inputs);
        if (standardize.FeatureShape != new Shape(x.Shape[1]))
            throw new InvalidDataException($"{path}: {x.Shape[1]} feature columns, but the trained model was standardised for {standardize.FeatureShape}");
        return new ClassificationData(train, test, standardize, classNames,
            $"{Path.GetFileName(path)}: {table.RowCount} rows, {features.Count} feature columns, target '{target}'");
    }

    // Class indices 0..C-1 and their names: categorical labels keep their category names; numeric labels are
    // renumbered in sorted order so that, e.g., labels {1, 2, 3} become classes 0, 1, 2 named "1", "2", "3".
    private static (Tensor Labels, string[] Names) EncodeLabels(Tensor labels, IReadOnlyList<string>? categories)
    {
        var raw = labels.ToArray<long>();
        if (categories is not null) return (Tensor.FromArray(raw), categories.ToArray());
        var distinct = raw.Distinct().Order().ToArray();
        var index = distinct.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => (long)p.i);
        return (Tensor.FromArray(raw.Select(v => index[v]).ToArray()), distinct.Select(v => v.ToString()).ToArray());
    }

    private static (string TrainImages, string TrainLabels, string TestImages, string TestLabels)? IdxFiles(string folder)
    {
        string? Find(string stem) => new[] { stem, stem + ".gz" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
        var files = (Find("train-images-idx3-ubyte"), Find("train-labels-idx1-ubyte"), Find("t10k-images-idx3-ubyte"), Find("t10k-labels-idx1-ubyte"));
        return files is (string a, string b, string c, string d) ? (a, b, c, d) : null;
    }

    private static ClassificationData FromIdx(string folder, (string TrainImages, string TrainLabels, string TestImages, string TestLabels) f)
    {
        TensorDataset Read(string images, string labels)
        {
            var x = IdxReader.ReadImages(images);
            var y = IdxReader.ReadLabels(labels).To(DType.Int64);
            if (x.Shape[0] != y.Shape[0]) throw new InvalidDataException($"{images} has {x.Shape[0]} images but {labels} has {y.Shape[0]} labels");
            return new TensorDataset(x.To(DType.Float32).Div(255).Unsqueeze(1), y);
        }
        var train = Read(f.TrainImages, f.TrainLabels);
        var test = Read(f.TestImages, f.TestLabels);
        int classes = (int)train.Targets.Max().Item() + 1;
        return new ClassificationData(train, test, train.Inputs.Shape.ToArray()[1..], Enumerable.Range(0, classes).Select(i => i.ToString()).ToArray(), $"IDX files in {folder}");
    }

    private static ClassificationData FromImageFolder(string folder, ClassificationOptions options, ulong seed)
    {
        var images = new ImageFolder(folder, (options.ImageSize[0], options.ImageSize[1]), options.ImageChannels);
        if (images.Classes.Count < 2) throw new InvalidDataException($"{folder}: an image folder needs at least two class sub-folders, found {images.Classes.Count}");
        int[] sampleShape = [options.ImageChannels, options.ImageSize[0], options.ImageSize[1]];
        int n = images.Count, per = sampleShape.Aggregate(1, (a, b) => a * b);
        var x = new float[n * per];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            var s = images[i];
            s.Input.ToArray<float>().CopyTo(x, i * per);
            y[i] = (long)s.Target.Item();
        }
        var all = new TensorDataset(Tensor.FromArray(x, [n, .. sampleShape]), Tensor.FromArray(y));
        var split = Split.Stratified(all.Targets, validationFraction: 0, testFraction: 0.2, seed: seed);
        return new ClassificationData(all.Gather(split.Train), all.Gather(split.Test),
            sampleShape, images.Classes, $"image folder {folder}: {n} images in {images.Classes.Count} classes");
    }
}
