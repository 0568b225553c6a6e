using System.IO.Compression;
using System.Text;

namespace Loom.Models;

/// <summary>
/// Where classification data comes from and how it is read: built-in datasets, CSV tables, image folders (already split
/// into train/, val/ and test/ folders or not) and folders of IDX files. For a trained run, data is matched to the
/// run's feature columns and classes by name, with what <see cref="ClassificationData.Save"/> wrote.
/// </summary>
public static class ClassificationSources
{
    /// <summary>The share of a CSV table, or of an image folder without a test/ split, held out (stratified, seeded) as the test split.</summary>
    public const double TestFraction = 0.2;

    private static string Percent(double fraction) => $"{fraction * 100:0}%";

    /// <summary>
    /// What kind of data <paramref name="data"/> is, if classification reads it: a built-in dataset name, a CSV file, an
    /// image folder with one sub-folder per class, a folder holding <c>train-</c>/<c>t10k-</c> IDX files, or one holding
    /// CIFAR-10/100 binary batches (<see cref="CifarReader"/>).
    /// </summary>
    public static DataKind? Recognize(string data)
    {
        if (BuiltinDatasets.Names.Contains(data, StringComparer.OrdinalIgnoreCase)) return DataKind.Images;
        if (File.Exists(data) && (data.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || data.EndsWith(".csv.gz", StringComparison.OrdinalIgnoreCase)))
            return DataKind.Table;
        // Any folder: one without IDX files is read as an image folder, which says what is wrong with it if it is not.
        return Directory.Exists(data) ? DataKind.Images : null;
    }

    /// <summary>Loads <see cref="TrainingConfig.Data"/> (see <see cref="Recognize"/> and <see cref="ITask.Load"/>).</summary>
    public static ClassificationData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false)
    {
        if (newData && trainedRun is null) throw new ArgumentException("new data is read for a trained run: give the run", nameof(trainedRun));
        string data = config.Data;
        var options = config.GetTaskOptions<ClassificationOptions>();
        var trained = trainedRun is null ? null : TrainedFiles.Read(trainedRun);
        var kind = Recognize(data);
        // An MLP takes a table row or a flattened image, so its weights alone do not say which it was trained on; the
        // standardisation a table run saves does.
        if (trained is not null && kind is not null && (kind == DataKind.Table) != (trained.Standardizer is not null))
            throw new InvalidDataException($"--data {data} is {kind.Description}, but the run was trained on {(trained.Standardizer is null ? DataKind.Images : DataKind.Table).Description}: give it data like its training data");
        if (BuiltinDatasets.Names.Contains(data, StringComparer.OrdinalIgnoreCase))
        {
            var split = BuiltinDatasets.Load(data);
            var train = split.Train;
            if (options.Negatives is { Length: > 0 } negatives)
            {
                if (split.Info.Name != LfwSubset.Name) throw new ArgumentException($"--negatives adds non-face windows to {LfwSubset.Name}; --data is {data}");
                // A trained run's data is only evaluated, on the crops' own test split.
                if (trained is null) train = FaceWindows.WithNegatives(train, negatives, config.Seed);
            }
            return new ClassificationData(train, split.Test, split.Info.InputShape, split.Info.ClassNames, $"{split.Info.Name} ({split.Info.Source})");
        }
        if (newData && LooseImages(data) is { } loose) return FromLooseImages(data, loose, options, trained!);
        if (kind == DataKind.Table) return FromCsv(data, options, config.Seed, trained, newData);
        if (Directory.Exists(data))
        {
            if (IdxFiles(data) is { } idx) return FromIdx(data, idx);
            if (CifarReader.FindFolder(data) is { } cifar)
                return new ClassificationData(cifar.ReadTrain(), cifar.ReadTest(), [CifarReader.Channels, CifarReader.Side, CifarReader.Side], cifar.ClassNames, $"CIFAR binary files in {data}");
            return FromImageFolder(data, options, config.Seed, trained, newData);
        }
        if (File.Exists(data))
            throw new ArgumentException($"--data {data}: unsupported file type; give {ClassificationTask.Accepted}");
        throw new FileNotFoundException($"--data {data}: no such built-in dataset, file or folder (built-in: {string.Join(", ", BuiltinDatasets.Names)})", data);
    }

    /// <summary>What a trained run saved about its data (<see cref="ClassificationData.Save"/>); a run written by an older Loom may lack some.</summary>
    private sealed record TrainedFiles(Standardize? Standardizer, CsvSchema? Schema, IReadOnlyList<string>? Classes)
    {
        public static TrainedFiles Read(RunFolder folder)
        {
            string standardize = folder.File(ClassificationData.StandardizeFile), features = folder.File(ClassificationData.FeaturesFile), classes = folder.File(ClassificationData.ClassesFile);
            return new TrainedFiles(File.Exists(standardize) ? Standardize.Load(standardize) : null,
                File.Exists(features) ? CsvSchema.Load(features) : null,
                File.Exists(classes) ? ClassNamesFile.Read(classes) : null);
        }
    }

    private static ClassificationData FromCsv(string path, ClassificationOptions options, ulong seed, TrainedFiles? trained, bool newData)
    {
        if (options.Target is not { } target) throw new ArgumentException($"--data {path} is a CSV file: name its label column with --target COLUMN");
        string file = Path.GetFileName(path);
        // The options name columns; checked against the header before the file is read with them, so that a typo is
        // reported as the option's mistake rather than as the reader's.
        var header = Header(path);
        if (trained is null && header is not null)
        {
            CheckColumns(path, header, "--target", [target]);
            CheckColumns(path, header, "--categorical", options.Categorical);
            CheckColumns(path, header, "--ignore", options.Ignore);
        }
        // New data may lack a categorical column (predict without the target); the schema names missing features.
        var declared = options.Categorical.Where(c => header?.Contains(c) ?? true).Distinct().ToDictionary(c => c, _ => CsvColumnType.Categorical);
        var table = WithOptionHint(trained is null, () => CsvReader.Read(path, declared.Count == 0 ? null : new CsvOptions { ColumnTypes = declared }));
        bool labelled = table.Contains(target);
        if (!labelled && !newData) CheckColumns(path, table.Columns.Select(c => c.Name).ToList(), "--target", [target]);

        var notes = new List<string>();
        CsvSchema schema;
        if (trained?.Schema is { } saved)
        {
            schema = saved;
            var match = saved.Match(table);
            var unused = match.Extra.Where(c => c != target && !options.Ignore.Contains(c)).ToArray();
            if (unused.Length > 0) notes.Add($"{file}: {(unused.Length == 1 ? "a column the model does not use is" : $"{unused.Length} columns the model does not use are")} left out ({string.Join(", ", unused)})");
            if (!match.SameOrder) notes.Add($"{file}: the columns come in another order than in the training data; they are matched by name");
        }
        else
        {
            var features = table.Columns.Select(c => c.Name).Where(n => n != target && !options.Ignore.Contains(n)).ToList();
            if (features.Count == 0) throw new InvalidDataException($"{path}: no feature columns besides the target '{target}'{(options.Ignore.Length > 0 ? " and the columns of --ignore" : "")}");
            if (trained is not null) notes.Add($"{file}: the run has no {ClassificationData.FeaturesFile} (an older Loom trained it), so the columns are taken by position");
            schema = WithOptionHint(trained is null, () => CsvSchema.Of(table, features));
        }
        var featureColumns = schema.Columns.Select(c => c.Name).ToHashSet();
        var holes = table.Missing.Where(m => featureColumns.Contains(m.Column)).ToList();
        if (holes.Count > 0)
            throw new InvalidDataException($"{path}: {holes.Count} missing values, the first in column '{holes[0].Column}' at line {holes[0].Line}; fill or drop them first{(trained is null ? ", or leave the column out with --ignore" : "")}");
        var x = schema.ToTensor(table);

        Tensor y;
        IReadOnlyList<string> classes;
        string? unlabelled = null;
        if (!labelled)
        {
            classes = trained?.Classes ?? throw new InvalidDataException($"{path} has no column '{target}', and the run (trained by an older Loom) has no {ClassificationData.ClassesFile} to name its classes");
            y = Tensor.FromArray(new long[table.RowCount]);
            unlabelled = $"{path} has no column '{target}' (the run's --target)";
        }
        else if (trained?.Classes is { } known)
        {
            (y, classes) = (table.Labels(target, known), known);
        }
        else
        {
            var labelColumn = table[target];
            (y, classes) = EncodeLabels(table.Labels(target), labelColumn.Type == CsvColumnType.Categorical ? labelColumn.Categories : null);
            if (trained is null && classes.Count < 2)
                throw new InvalidDataException($"{path}: the target column '{target}' holds one class ('{classes.FirstOrDefault()}') in all {table.RowCount} rows; a classification needs at least two classes");
        }

        var rows = new TensorDataset(x, y);
        TensorDataset train, test;
        int[] testRows;
        if (newData)
        {
            testRows = Enumerable.Range(0, table.RowCount).ToArray();
            (train, test) = (rows.Gather([]), rows);
        }
        else
        {
            var split = Split.Stratified(y, validationFraction: 0, testFraction: TestFraction, seed: seed);
            if (split.Test.Length == 0)
                throw new InvalidDataException($"{path}: {table.RowCount} rows are too few: the {Percent(TestFraction)} test split would be empty (at least 3 rows are needed, and more to learn anything)");
            if (trained is null) CheckTrainingClasses(path, $"class of '{target}'", y, split.Train, classes);
            testRows = split.Test;
            (train, test) = (rows.Gather(split.Train), rows.Gather(split.Test));
        }
        var standardize = trained is null ? Standardize.Fit(train.Inputs) : trained.Standardizer!;
        if (standardize.FeatureShape != new Shape(x.Shape[1]))
            throw new InvalidDataException($"{path}: {x.Shape[1]} features, but the trained model was standardised for {standardize.FeatureShape}");
        string description = newData
            ? $"{file}: {table.RowCount} rows{(labelled ? "" : " without labels")}"
            : $"{file}: {table.RowCount} rows, {schema.Columns.Count} feature columns, target '{target}'";
        return new ClassificationData(train, test, standardize, schema, classes, description) { TestRows = testRows, UnlabelledReason = unlabelled, NoteList = notes };
    }

    /// <summary>
    /// The reader's advice to "declare the column categorical" or "drop the column from the features" in the words of
    /// the command line: the options that do it, with the column the message names. Only when <paramref name="training"/>:
    /// a trained run's options are fixed.
    /// </summary>
    private static T WithOptionHint<T>(bool training, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e) when (training && ColumnNamed.Match(e.Message) is { Success: true } column)
        {
            string? option = e.Message.Contains("declare the column categorical", StringComparison.Ordinal) ? "--categorical"
                : e.Message.Contains("drop the column from the features", StringComparison.Ordinal) ? "--ignore" : null;
            if (option is null) throw;
            throw new InvalidDataException($"{e.Message} ({option} {column.Groups[1].Value})", e);
        }
    }

    private static readonly System.Text.RegularExpressions.Regex ColumnNamed = new("column '([^']*)'");

    private static void CheckColumns(string path, IReadOnlyList<string> columns, string option, IEnumerable<string> names)
    {
        foreach (var name in names)
            if (!columns.Contains(name))
                throw new ArgumentException($"{option} {name}: {path} has no such column (columns: {string.Join(", ", columns)})");
    }

    /// <summary>
    /// The names of a CSV file's columns, from its first line alone, or null when that line cannot be read on its own
    /// (the full read then reports what is wrong).
    /// </summary>
    private static IReadOnlyList<string>? Header(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            Stream stream = file;
            if (file.ReadByte() == 0x1F && file.ReadByte() == 0x8B) stream = new GZipStream(file, CompressionMode.Decompress);
            file.Position = 0;
            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            if (reader.ReadLine() is not { Length: > 0 } line) return null;
            // The header twice: a header and one data row, which the reader accepts whatever the delimiter.
            return CsvReader.Read(new StringReader(line + "\n" + line), path).Columns.Select(c => c.Name).ToList();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
        {
            return null;
        }
    }

    // A model learns nothing from one class: 100% accuracy on a test split of that class would be meaningless.
    private static void CheckTrainingClasses(string source, string what, Tensor labels, int[] trainRows, IReadOnlyList<string> classes)
    {
        var all = labels.ToArray<long>();
        var present = trainRows.Select(r => all[r]).Distinct().ToArray();
        if (present.Length >= 2) return;
        var counts = all.GroupBy(v => v).OrderBy(g => g.Key).Select(g => $"'{classes[(int)g.Key]}' {g.Count()}");
        throw new InvalidDataException($"{source}: after holding out the {Percent(TestFraction)} test split, the training samples hold one {what} only ('{classes[(int)present.Single()]}'); " +
            $"a classification needs at least two to train on (samples per class: {string.Join(", ", counts)})");
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

    /// <summary>
    /// An image folder: one sub-folder per class, or train/ (and val/, test/) split folders each holding them
    /// (<see cref="ImageFolder.FindSplits"/>). Its test/ is the test split, else 20% of the training images; its val/,
    /// if any, the validation split. New data for a trained run is all of its images (of test/, else val/, when split).
    /// </summary>
    private static ClassificationData FromImageFolder(string folder, ClassificationOptions options, ulong seed, TrainedFiles? trained, bool newData)
    {
        var size = (options.ImageSize[0], options.ImageSize[1]);
        int[] sampleShape = [options.ImageChannels, options.ImageSize[0], options.ImageSize[1]];
        var notes = new List<string>();
        if (trained is not null && trained.Classes is null)
            notes.Add($"the run has no {ClassificationData.ClassesFile} (an older Loom trained it), so the classes are the sub-folders of {folder}, sorted");
        var splits = ImageFolder.FindSplits(folder, size, options.ImageChannels, trained?.Classes);
        var images = splits?.Train ?? new ImageFolder(folder, size, options.ImageChannels, trained?.Classes);
        var classes = images.Classes;
        if (trained is null)
        {
            if (classes.Count < 2) throw new InvalidDataException($"{images.Root}: an image folder needs at least two class sub-folders, found {classes.Count}");
            var present = images.Labels().Distinct().ToArray();
            if (present.Length < 2) throw new InvalidDataException($"{images.Root}: only the class folder '{classes[present[0]]}' holds images; a classification needs at least two classes");
        }
        if (newData)
        {
            var source = splits?.Test ?? splits?.Validation ?? images;
            if (splits is not null) notes.Add($"{folder}: evaluating its {Path.GetFileName(source.Root)}/ split");
            var all = Tensors(source, sampleShape);
            return new ClassificationData(all.Gather([]), all, sampleShape, classes, $"image folder {source.Root}: {source.Count} images")
            {
                TestRows = Enumerable.Range(0, source.Count).ToArray(), NoteList = notes,
            };
        }
        var train = Tensors(images, sampleShape);
        var validation = splits?.Validation is { } v ? Tensors(v, sampleShape) : null;
        string description = $"image folder {folder}: {Count(splits, images)} images in {classes.Count} classes";
        if (splits?.Test is { } testFolder)
            return new ClassificationData(train, Tensors(testFolder, sampleShape), sampleShape, classes, description) { OwnValidation = validation, NoteList = notes };
        var split = Split.Stratified(train.Targets, validationFraction: 0, testFraction: TestFraction, seed: seed);
        if (split.Test.Length == 0)
            throw new InvalidDataException($"{images.Root}: {images.Count} images are too few: the {Percent(TestFraction)} test split would be empty (at least 3 images are needed, and more to learn anything)");
        if (trained is null) CheckTrainingClasses(images.Root, "class folder", train.Targets, split.Train, classes);
        return new ClassificationData(train.Gather(split.Train), train.Gather(split.Test), sampleShape, classes, description)
        {
            OwnValidation = validation, TestRows = split.Test, NoteList = notes,
        };
    }

    private static string Count(ImageFolderSplits? splits, ImageFolder images) => splits is null
        ? images.Count.ToString()
        : string.Join(" + ", new[] { splits.Train, splits.Validation, splits.Test }.OfType<ImageFolder>().Select(s => $"{s.Count} in {Path.GetFileName(s.Root)}/"));

    /// <summary>
    /// The images of <paramref name="data"/> when it is one image file, or a folder of images not sorted into class
    /// folders (no sub-folders; other files ignored), in ordinal order of their paths; null for anything else.
    /// </summary>
    internal static IReadOnlyList<string>? LooseImages(string data)
    {
        if (File.Exists(data)) return ImageFolder.Extensions.Contains(Path.GetExtension(data)) ? [data] : null;
        if (!Directory.Exists(data) || Directory.EnumerateDirectories(data).Any()) return null;
        var files = Directory.EnumerateFiles(data).Where(f => ImageFolder.Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
        return files.Count > 0 ? files : null;
    }

    /// <summary>Unlabelled images for a trained image run to predict, read as its training images were; each row keyed by its file.</summary>
    private static ClassificationData FromLooseImages(string data, IReadOnlyList<string> files, ClassificationOptions options, TrainedFiles trained)
    {
        if (trained.Standardizer is not null)
            throw new InvalidDataException($"--data {data} is {DataKind.Images.Description}, but the run was trained on {DataKind.Table.Description}: give it data like its training data");
        var classes = trained.Classes ?? throw new InvalidDataException($"--data {data}: the run (trained by an older Loom) has no {ClassificationData.ClassesFile} to name its classes, so it can only predict a folder of class folders");
        int[] sampleShape = [options.ImageChannels, options.ImageSize[0], options.ImageSize[1]];
        var all = Decode(files, new long[files.Count], sampleShape);
        string what = files.Count == 1 ? $"image {files[0]}" : $"{files.Count} images in {data}";
        return new ClassificationData(all.Gather([]), all, sampleShape, classes, what)
        {
            TestFiles = files, UnlabelledReason = $"{data}: {(files.Count == 1 ? "one image" : "images")} without a class folder",
        };
    }

    /// <summary>Every image decoded into one tensor [N, C, H, W] with its labels.</summary>
    private static TensorDataset Tensors(ImageFolder images, int[] sampleShape) =>
        Decode([.. images.Samples.Select(s => s.Path)], [.. images.Samples.Select(s => (long)s.Label)], sampleShape);

    /// <summary>Image files decoded as [C, H, W] = <paramref name="sampleShape"/> into one tensor [N, C, H, W], with <paramref name="labels"/> as targets.</summary>
    private static TensorDataset Decode(IReadOnlyList<string> files, long[] labels, int[] sampleShape)
    {
        int n = files.Count, per = sampleShape.Aggregate(1, (a, b) => a * b);
        var x = new float[n * per];
        for (int i = 0; i < n; i++)
            ImageReader.Read(files[i], (sampleShape[1], sampleShape[2]), sampleShape[0]).ToArray<float>().CopyTo(x, i * per);
        return new TensorDataset(Tensor.FromArray(x, [n, .. sampleShape]), Tensor.FromArray(labels));
    }
}
