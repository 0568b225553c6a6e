namespace Loom.Models;

/// <summary>
/// Labelled texts ready for a text classifier: word ids [N, T] (Int64, padded with 0 at the end, cut at the maximum
/// length) or, for a model on a frozen pretrained encoder, the encoder's sentence embeddings [N, D]; class indices
/// [N]; and the texts themselves for the lexicon baseline and the report. The vocabulary is fitted on the training
/// texts only (in cross-validation, on each fold's training texts); embeddings are computed once per text and shared
/// by every fold.
/// </summary>
public sealed class TextClassificationData : TaskData
{
    internal const string TokenizerFile = "tokenizer.json", ClassesFile = ClassNamesFile.Name;

    // A window of Kim's widest filter (5 words) must fit, so batches of very short texts are padded to it.
    private const int MinimumWidth = 5;

    private readonly bool _ownTokenizer;
    private LexiconBaseline? _baseline;
    private bool _baselineFitted;

    public TextClassificationData(IReadOnlyList<string> trainTexts, int[] trainLabels, IReadOnlyList<string> testTexts, int[] testLabels,
        IReadOnlyList<string> classNames, int maxLength, int minCount, string description, WordTokenizer? tokenizer = null, SentenceEmbeddings? embeddings = null,
        bool words = true)
    {
        _ownTokenizer = tokenizer is null;
        Embeddings = embeddings;
        Tokenizer = embeddings is not null && !words ? null : tokenizer ?? WordTokenizer.Fit(trainTexts, minCount);
        (TrainTexts, TrainLabels, TestTexts, TestLabels, ClassNames, MaxLength, MinCount, Description) =
            (trainTexts, trainLabels, testTexts, testLabels, classNames, maxLength, minCount, description);
        Train = Encode(trainTexts, trainLabels);
        Test = Encode(testTexts, testLabels);
    }

    /// <summary>The word vocabulary of a model that learns its own word embeddings; null for a head on a pretrained encoder alone.</summary>
    public WordTokenizer? Tokenizer { get; }

    /// <summary>The frozen pretrained encoder's embeddings of the texts (the model's inputs); null for a word model.</summary>
    public SentenceEmbeddings? Embeddings { get; }

    public IReadOnlyList<string> TrainTexts { get; }

    public int[] TrainLabels { get; }

    public IReadOnlyList<string> TestTexts { get; }

    public int[] TestLabels { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Words of a text the model reads.</summary>
    public int MaxLength { get; }

    public int MinCount { get; }

    public override TensorDataset Train { get; }

    public override TensorDataset Test { get; }

    public override string Description { get; }

    public override Tensor Strata => Train.Targets;

    /// <summary>Where each test text is in its file (the line it starts on); null: in order.</summary>
    public IReadOnlyList<int>? TestLines { get; init; }

    public override string? Unlabelled => UnlabelledReason;

    /// <summary>Probability that a training word is replaced by unk as samples are loaded (<see cref="WordDropout"/>).</summary>
    public double WordDropoutRate { get; init; }

    /// <summary>Seeds the word dropout.</summary>
    public ulong Seed { get; init; }

    public override IDataset<Sample> ForTraining(IDataset<Sample> train) =>
        WordDropoutRate > 0 && Tokenizer is not null ? train.WithTransform(new WordDropout(WordDropoutRate, Tokenizer.Special.Unk!.Value, SpecialTokens.ReservedCount, Seed)) : train;

    internal string? UnlabelledReason { get; init; }

    /// <summary>The VADER lexicon baseline fitted on the training texts, for two classes; null otherwise (or with no training texts).</summary>
    public LexiconBaseline? Baseline
    {
        get
        {
            if (!_baselineFitted)
            {
                _baseline = ClassNames.Count == 2 && TrainTexts.Count > 0 ? LexiconBaseline.Fit(SentimentLexicon.Vader, TrainTexts, TrainLabels) : null;
                _baselineFitted = true;
            }
            return _baseline;
        }
    }

    /// <summary>
    /// The model's inputs for <paramref name="texts"/> (word ids [N, T], embeddings [N, D], or both packed as
    /// <see cref="EmbeddingNgramClassifier.Pack"/> does), as the training texts were encoded.
    /// </summary>
    public Tensor EncodeTexts(IReadOnlyList<string> texts) => (Embeddings, Tokenizer) switch
    {
        ({ } embeddings, { } tokenizer) => EmbeddingNgramClassifier.Pack(embeddings.Embed(texts), Encode(tokenizer, texts, MaxLength)),
        ({ } embeddings, null) => embeddings.Embed(texts),
        _ => Encode(Tokenizer!, texts, MaxLength),
    };

    /// <summary>Word ids [N, T]: each text's first <paramref name="maxLength"/> words (at least one: an empty text is one unk), padded with 0 to the longest.</summary>
    public static Tensor Encode(WordTokenizer tokenizer, IReadOnlyList<string> texts, int maxLength)
    {
        var ids = texts.Select(t => tokenizer.Encode(t) is { Length: > 0 } e ? e[..Math.Min(e.Length, maxLength)] : [tokenizer.Special.Unk!.Value]).ToList();
        int width = Math.Max(MinimumWidth, ids.Count == 0 ? 0 : ids.Max(i => i.Length));
        var flat = new long[ids.Count * width];
        for (int r = 0; r < ids.Count; r++)
            for (int j = 0; j < ids[r].Length; j++) flat[r * width + j] = ids[r][j];
        return Tensor.FromArray(flat, ids.Count, width);
    }

    private TensorDataset Encode(IReadOnlyList<string> texts, int[] labels) =>
        new(EncodeTexts(texts), Tensor.FromArray(labels.Select(l => (long)l).ToArray(), labels.Length));

    public override void Save(RunFolder folder)
    {
        Tokenizer?.Save(folder.File(TokenizerFile));
        ClassNamesFile.Write(folder, ClassNames);
    }

    /// <summary>A cross-validation fold, its vocabulary refitted on the fold's training texts (a trained run's vocabulary is kept).</summary>
    public override TextClassificationData Fold(int[] train, int[] validation) =>
        new([.. train.Select(i => TrainTexts[i])], [.. train.Select(i => TrainLabels[i])],
            [.. validation.Select(i => TrainTexts[i])], [.. validation.Select(i => TrainLabels[i])],
            ClassNames, MaxLength, MinCount, Description, _ownTokenizer ? null : Tokenizer, Embeddings, words: Tokenizer is not null)
        { WordDropoutRate = WordDropoutRate, Seed = Seed };

    /// <summary>Reads <see cref="TrainingConfig.Data"/> (see <see cref="ITask.Load"/>).</summary>
    public static TextClassificationData Load(TrainingConfig config, RunFolder? trainedRun, bool newData)
    {
        var options = config.GetTaskOptions<TextClassificationOptions>();
        var table = TextTable.Read(config.Data, options.TextColumn, options.Target, labelsRequired: !newData);
        WordTokenizer? tokenizer = null;
        SentenceEmbeddings? embeddings = null;
        if (TextClassificationTask.UsesEncoder(config))
        {
            var encoder = MiniLm.Load(options.Encoder);
            embeddings = new SentenceEmbeddings(encoder, SentenceEmbeddings.DefaultCacheFile(encoder));
        }
        IReadOnlyList<string> classes;
        if (trainedRun is not null)
        {
            if (TextClassificationTask.UsesWords(config)) tokenizer = ReadTokenizer(trainedRun);
            classes = ClassNamesFile.Read(trainedRun.File(ClassesFile));
        }
        else
        {
            classes = OrderClasses(table.Labels!.Distinct());
            if (classes.Count < 2)
                throw new InvalidDataException($"{config.Data}: the label column '{table.LabelColumn}' holds only '{classes[0]}'; a classifier needs two or more classes");
        }
        var labels = table.Labels is null ? new int[table.Count] : table.Labels.Select((l, r) =>
        {
            int c = IndexOf(classes, l);
            return c >= 0 ? c : throw new InvalidDataException($"{config.Data}: line {table.Lines[r]}: label '{l}' is not one of the run's classes ({string.Join(", ", classes)})");
        }).ToArray();
        string source = $"{Path.GetFileName(config.Data)}: {table.Count:N0} texts in column '{table.TextColumn}'" +
            (table.LabelColumn is null ? "" : $", {classes.Count} classes in column '{table.LabelColumn}'");
        int maxLength = options.EffectiveMaxLength;
        if (newData)
        {
            return new TextClassificationData([], [], table.Texts, labels, classes, maxLength, options.MinCount, source, tokenizer, embeddings, TextClassificationTask.UsesWords(config))
            {
                TestLines = table.Lines,
                UnlabelledReason = table.Labels is null ? $"{Path.GetFileName(config.Data)} has no label column '{options.Target ?? "(none)"}'" : null,
            };
        }
        int[] trainRows, testRows;
        if (options.TestFraction == 0) (trainRows, testRows) = (Enumerable.Range(0, table.Count).ToArray(), []);
        else
        {
            var split = Split.Stratified(labels, options.TestFraction, seed: config.Seed);
            (trainRows, testRows) = (split.Train, split.Validation);
            if (testRows.Length == 0) throw new InvalidDataException($"--test-fraction {options.TestFraction} of {table.Count} texts holds out none for testing; give a larger fraction or more data");
        }
        var data = new TextClassificationData([.. trainRows.Select(r => table.Texts[r])], [.. trainRows.Select(r => labels[r])],
            [.. testRows.Select(r => table.Texts[r])], [.. testRows.Select(r => labels[r])], classes, maxLength, options.MinCount, source, tokenizer, embeddings, TextClassificationTask.UsesWords(config))
        {
            TestLines = [.. testRows.Select(r => table.Lines[r])],
            WordDropoutRate = options.WordDropout,
            Seed = config.Seed,
        };
        return data;
    }

    internal static WordTokenizer ReadTokenizer(RunFolder run)
    {
        var path = run.File(TokenizerFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{run.Path} has no {TokenizerFile}; was it trained by loom train on labelled text?", path);
        return Data.Tokenizer.Load(path) as WordTokenizer ?? throw new InvalidDataException($"{path}: not a word vocabulary, which a text classifier reads");
    }

    // Numbers in numeric order (-1 before 1), otherwise ordinal: the same labels give the same class indices.
    private static List<string> OrderClasses(IEnumerable<string> labels)
    {
        var distinct = labels.ToList();
        return distinct.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            ? [.. distinct.OrderBy(l => double.Parse(l, CultureInfo.InvariantCulture))]
            : [.. distinct.Order(StringComparer.Ordinal)];
    }

    private static int IndexOf(IReadOnlyList<string> classes, string label)
    {
        for (int i = 0; i < classes.Count; i++) if (classes[i] == label) return i;
        return -1;
    }
}
