namespace Loom.Models;

/// <summary>
/// Keyword-spotting data ready for the model: log-mel features [N, 1, bands, frames] and class indices, the class
/// names, and the files of the test clips (for predictions). Training clips come with their augmented copies.
/// </summary>
public sealed class KeywordSpottingData : TaskData
{
    public const string ClassesFile = ClassNamesFile.Name;

    /// <summary>Share of a dataset without its own splits (no manifest) held out, stratified and seeded, as the test split.</summary>
    public const double TestFraction = 0.2;

    public KeywordSpottingData(TensorDataset train, TensorDataset test, TensorDataset? validation, IReadOnlyList<string> classNames, IReadOnlyList<string> testFiles, string description)
        : this(() => train, test, validation, classNames, testFiles, description)
    {
    }

    /// <param name="train">Computes the training features when first asked for: a trained run's eval and predict
    /// never are, while quantize --calibrate, --qat and fine-tuning verbs are.</param>
    public KeywordSpottingData(Func<TensorDataset> train, TensorDataset test, TensorDataset? validation, IReadOnlyList<string> classNames, IReadOnlyList<string> testFiles, string description)
    {
        _train = new Lazy<TensorDataset>(train);
        (Test, OwnValidation, ClassNames, TestFiles, Description) = (test, validation, classNames, testFiles, description);
    }

    private readonly Lazy<TensorDataset> _train;

    public override TensorDataset Train => _train.Value;

    public override TensorDataset Test { get; }

    private TensorDataset? OwnValidation { get; }

    public override TensorDataset? Validation => OwnValidation;

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The file of each test clip, in order.</summary>
    public IReadOnlyList<string> TestFiles { get; }

    public override string Description { get; }

    public override Tensor Strata => Train.Targets;

    /// <summary>
    /// Rows of <see cref="Train"/> per clip: the clean clip and its augmented copies. Row r is a copy of clip
    /// r mod (rows / copies), so splits of the training data go by clip, and no copy of a held-out clip is trained on.
    /// </summary>
    public int Copies { get; init; } = 1;

    private int Clips => Train.Count / Copies;

    /// <summary>The validation hold-out by clip (stratified): the held-out clips' clean rows validate, every row of the others trains.</summary>
    public override (IDataset<Sample> Train, IDataset<Sample> Validation) HoldOut(double fraction, ulong seed)
    {
        var clean = Train.Targets.ToArray<long>()[..Clips].Select(v => (int)v).ToArray();
        var split = Split.Stratified(clean, fraction, seed: seed);
        if (split.Validation.Length == 0)
            throw new InvalidDataException($"--val-fraction {fraction} of {Clips} training clips holds out none for validation; give more data, a larger fraction, or --val-fraction 0");
        if (split.Train.Length == 0)
            throw new InvalidDataException($"--val-fraction {fraction} of {Clips} training clips leaves none to train on; give more data or a smaller fraction");
        return (Train.Gather(AllCopies(split.Train)), Train.Gather(split.Validation));
    }

    private int[] AllCopies(int[] clips) => [.. Enumerable.Range(0, Copies).SelectMany(k => clips.Select(c => k * Clips + c))];

    public override string? Unlabelled => UnlabelledReason;

    internal string? UnlabelledReason { get; init; }

    public override IReadOnlyList<string> Notes => NoteList;

    internal IReadOnlyList<string> NoteList { get; init; } = [];

    public override void Save(RunFolder folder) => ClassNamesFile.Write(folder, ClassNames);

    /// <summary>The predictions table of the test clips, keyed by their file.</summary>
    internal ResultTable Predictions(Tensor logits) =>
        ClassificationEvaluation.Predictions(logits, ClassNames, ["file"], i => [TestFiles[i]], ClassificationEvaluation.TestClasses(this, Test));

    /// <summary>
    /// A cross-validation fold: the validation rows' clips, clean, are its test split; its training rows are the given
    /// ones less every copy of those clips (a fold of rows would otherwise train on augmented copies of what it tests).
    /// </summary>
    public override TaskData Fold(int[] train, int[] validation)
    {
        var held = validation.Select(r => r % Clips).ToHashSet();
        var test = held.Order().ToArray();
        // By clip, keeping the layout of copies, so that the fold's own hold-out also goes by clip.
        var kept = train.Select(r => r % Clips).Where(c => !held.Contains(c)).Distinct().Order().ToArray();
        return new KeywordSpottingData(Train.Gather(AllCopies(kept)), Train.Gather(test), null, ClassNames, [.. test.Select(i => $"training clip {i}")], Description)
        {
            Copies = Copies,
        };
    }

    /// <summary>The class names a trained run saved.</summary>
    public static string[] ReadClasses(RunFolder folder)
    {
        var path = folder.File(ClassesFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder.Path} has no {ClassesFile}; was it trained by loom train on audio?", path);
        return ClassNamesFile.Read(path);
    }

    /// <summary>Reads <see cref="TrainingConfig.Data"/> (see <see cref="ITask.Load"/>).</summary>
    public static KeywordSpottingData Load(TrainingConfig config, RunFolder? trainedRun, bool newData)
    {
        string data = config.Data;
        var options = config.GetTaskOptions<KeywordSpottingOptions>();
        var features = new SpeechFeatures(options);
        if (!File.Exists(data) && !Directory.Exists(data)) throw new FileNotFoundException($"--data {data}: no such file or folder", data);
        IReadOnlyList<string> classes = trainedRun is not null ? ReadClasses(trainedRun) : Directory.Exists(data) ? AudioClips.ClassesOf(data) : [];
        if (newData)
        {
            var (clips, notes) = AudioClips.NewData(data, classes);
            if (clips.Count == 0) throw new InvalidDataException($"--data {data}: no .wav files");
            bool labelled = clips.All(c => c.Label is not null);
            string? unlabelled = labelled ? null : $"{data}: the clips are not labelled (no class folders, and file names that are not classes)";
            var newTest = Features(features, labelled ? clips : [.. clips.Select(c => c with { Label = 0 })], 0, config.Seed);
            return new KeywordSpottingData(Features(features, [], 0, config.Seed), newTest, null, classes, [.. clips.Select(c => c.File)], $"audio {data}: {clips.Count} clips")
            {
                UnlabelledReason = unlabelled, NoteList = notes,
            };
        }
        if (!Directory.Exists(data)) throw new InvalidDataException($"--data {data}: training needs a folder with one sub-folder of .wav files per class");
        if (classes.Count < 2) throw new InvalidDataException($"{data}: keyword spotting needs at least two class folders of .wav files, found {classes.Count}");
        var all = AudioClips.Labelled(data, classes);
        List<AudioClip> train, test, validation;
        string how;
        if (all.Any(c => c.Split is not null))
        {
            train = [.. all.Where(c => c.Split is null or "train")];
            validation = [.. all.Where(c => c.Split == "validation")];
            test = [.. all.Where(c => c.Split == "test")];
            how = $"{train.Count} training, {validation.Count} validation and {test.Count} test clips by the manifest's splits (held-out voices)";
        }
        else
        {
            var labels = all.Select(c => c.Label!.Value).ToArray();
            var split = Split.Stratified(labels, validationFraction: 0, testFraction: TestFraction, seed: config.Seed);
            train = [.. split.Train.Select(i => all[i])];
            test = [.. split.Test.Select(i => all[i])];
            validation = [];
            how = $"{train.Count} training and {test.Count} test clips ({TestFraction:P0} held out, stratified)";
        }
        if (test.Count == 0) throw new InvalidDataException($"{data}: no test clips ({how})");
        // Eval of the run's own data needs only the test split: a trained run's training features are computed when a
        // verb asks for them (calibration, fine-tuning), not on every load.
        return new KeywordSpottingData(() => Features(features, train, options.AugmentCopies, config.Seed), Features(features, test, 0, config.Seed),
            validation.Count > 0 ? Features(features, validation, 0, config.Seed) : null, classes, [.. test.Select(c => c.File)],
            $"audio folder {data}: {all.Count} clips in {classes.Count} classes; {how}; {options.SampleRate} Hz, {options.Mels} mel bands{(options.AugmentCopies > 0 ? $", {options.AugmentCopies} augmented copies per training clip" : "")}")
        {
            Copies = 1 + options.AugmentCopies,
        };
    }

    /// <summary>
    /// Features of every clip, plus <paramref name="augmented"/> augmented copies each (after all the clean ones),
    /// computed in parallel; a copy's randomness depends only on the seed, clip and copy, so loading is reproducible.
    /// </summary>
    public static TensorDataset Features(SpeechFeatures features, IReadOnlyList<AudioClip> clips, int augmented, ulong seed)
    {
        int n = clips.Count, copies = 1 + augmented, size = features.Size;
        var x = new float[(long)n * copies * size];
        var y = new long[n * copies];
        try
        {
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Loom.Threads.Count }, i => Compute(i));
        }
        catch (AggregateException e)
        {
            // A damaged file is the user's error, reported as its own one line rather than as "one or more errors".
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        using var persistent = Loom.Memory.MemoryScope.Persistent();
        return new TensorDataset(Tensor.FromArray(x, [n * copies, 1, features.Bands, features.Frames]), Tensor.FromArray(y));

        void Compute(int i)
        {
            var samples = features.Resample(WavFile.Read(clips[i].File));
            for (int k = 0; k < copies; k++)
            {
                int row = k * n + i;
                var random = k == 0 ? null : new System.Random(unchecked((int)((seed + 1) * 0x9E3779B97F4A7C15UL ^ ((ulong)i << 8) ^ (ulong)k)));
                features.Compute(samples, x.AsSpan(row * size, size), random);
                y[row] = clips[i].Label ?? 0;
            }
        }
    }
}
