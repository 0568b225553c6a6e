namespace Loom.Models;

/// <summary>
/// Package descriptions ready for a <see cref="Seq2SeqTransformer"/>, packed as <see cref="SentencePairs"/>: the long
/// description's first S word ids, and bos then the synopsis's first T ids; targets the synopsis then eos (none when
/// it was cut). With <see cref="Copy"/>, a source's out-of-vocabulary words get extended ids (the k-th distinct one
/// V + k) in the source and in the synopsis, which the pointer-generator learns to copy. Splits are by source package:
/// every binary package of a source lands on the same side, so near-identical descriptions (foo, foo-dev, foo-doc)
/// never cross a split. The vocabulary is fitted on the training pairs' descriptions and synopses.
/// </summary>
public sealed class SummarizationData : TaskData
{
    public const string TokenizerFile = "tokenizer.json";

    private IReadOnlyList<PackageDescription>? _heldOut;

    public SummarizationData(WordTokenizer tokenizer, IReadOnlyList<PackageDescription> train, IReadOnlyList<PackageDescription> test,
        int sourceLength, int summaryLength, bool copy, string description)
    {
        (Tokenizer, TrainPairs, TestPairs, SourceLength, SummaryLength, Copy, Description) = (tokenizer, train, test, sourceLength, summaryLength, copy, description);
        Train = Encode(train);
        Test = Encode(test);
    }

    public WordTokenizer Tokenizer { get; }

    public IReadOnlyList<PackageDescription> TrainPairs { get; }

    public IReadOnlyList<PackageDescription> TestPairs { get; }

    /// <summary>The validation pairs once the trainer has held them out (<see cref="HoldOut"/>); null before, or with --val-fraction 0.</summary>
    public IReadOnlyList<PackageDescription>? HeldOut => _heldOut;

    /// <summary>Words of a long description the encoder reads.</summary>
    public int SourceLength { get; }

    /// <summary>Words of a summary at most.</summary>
    public int SummaryLength { get; }

    /// <summary>Source words get extended ids for the pointer-generator (see <see cref="EncodeSource"/>).</summary>
    public bool Copy { get; }

    /// <summary>How the test split is decoded: words of a summary at least, beam width and length penalty.</summary>
    public SummarizationOptions Options { get; init; } = new();

    public override TensorDataset Train { get; }

    public override TensorDataset Test { get; }

    public override string Description { get; }

    /// <summary>Validation pairs from held-out source packages, so that it measures what the test split does.</summary>
    public override (IDataset<Sample> Train, IDataset<Sample> Validation) HoldOut(double fraction, ulong seed)
    {
        var (train, validation) = SplitBySource(TrainPairs, fraction, seed);
        if (train.Count == 0 || validation.Count == 0)
            throw new InvalidDataException($"--val-fraction {fraction} of {TrainPairs.Count} training descriptions leaves {train.Count} to train on and {validation.Count} to validate; give more data or another fraction");
        _heldOut = validation;
        return (Encode(train), Encode(validation));
    }

    public override void Save(RunFolder folder) => Tokenizer.Save(folder.File(TokenizerFile));

    /// <summary>A cross-validation fold of the training pairs (the vocabulary is kept: it was fitted on training pairs only).</summary>
    public override TaskData Fold(int[] train, int[] validation) =>
        new SummarizationData(Tokenizer, [.. train.Select(i => TrainPairs[i])], [.. validation.Select(i => TrainPairs[i])], SourceLength, SummaryLength, Copy, Description)
        { Options = Options };

    /// <summary>
    /// The source ids of <paramref name="text"/>: its first <paramref name="sourceLength"/> words (an empty text is one
    /// unk). With <paramref name="copy"/>, a word the vocabulary lacks gets the extended id V + k, k its rank among the
    /// text's distinct unknown words, which <c>Unknown</c> lists in that order; without, it is unk.
    /// </summary>
    public static (int[] Ids, List<string> Unknown) EncodeSource(WordTokenizer tokenizer, string text, int sourceLength, bool copy)
    {
        var words = WordTokenizer.Split(text);
        if (words.Count > sourceLength) words.RemoveRange(sourceLength, words.Count - sourceLength);
        var unknown = new List<string>();
        if (words.Count == 0) return ([tokenizer.Special.Unk!.Value], unknown);
        return ([.. words.Select(w => Id(tokenizer, w, unknown, copy, add: true))], unknown);
    }

    /// <summary>The target ids of <paramref name="text"/>: a word the vocabulary lacks is its extended id when the source has it (<paramref name="unknown"/>), else unk.</summary>
    public static int[] EncodeTarget(WordTokenizer tokenizer, string text, List<string> unknown, bool copy) =>
        [.. WordTokenizer.Split(text).Select(w => Id(tokenizer, w, unknown, copy, add: false))];

    private static int Id(WordTokenizer tokenizer, string word, List<string> unknown, bool copy, bool add)
    {
        if (tokenizer.Id(word) is { } id) return id;
        if (!copy) return tokenizer.Special.Unk!.Value;
        int k = unknown.IndexOf(word);
        if (k < 0 && add)
        {
            unknown.Add(word);
            k = unknown.Count - 1;
        }
        return k < 0 ? tokenizer.Special.Unk!.Value : tokenizer.VocabSize + k;
    }

    /// <summary>The words of decoded ids: extended ids are the source's unknown words; unk (left out of the text, it would only cost a word) and special tokens are dropped.</summary>
    public static string DecodeSummary(WordTokenizer tokenizer, IEnumerable<int> ids, IReadOnlyList<string> unknown) =>
        string.Join(' ', ids.Where(id => id != tokenizer.Special.Unk).Select(id => id >= tokenizer.VocabSize ? unknown[id - tokenizer.VocabSize] : tokenizer.Decode([id])).Where(w => w.Length > 0));

    private TensorDataset Encode(IReadOnlyList<PackageDescription> pairs)
    {
        var special = Tokenizer.Special;
        var packed = pairs.Select(p =>
        {
            var (source, unknown) = EncodeSource(Tokenizer, p.Text, SourceLength, Copy);
            var summary = EncodeTarget(Tokenizer, p.Synopsis, unknown, Copy);
            // A synopsis cut at SummaryLength has no eos: the model learns to stop only where a synopsis really ends.
            return (source, summary.Length > SummaryLength ? summary[..SummaryLength] : summary, summary.Length <= SummaryLength);
        }).ToList();
        return SentencePairs.Pack(packed, special.Bos!.Value, special.Eos!.Value);
    }

    /// <summary>
    /// <paramref name="pairs"/> cut by source package: a random <paramref name="fraction"/> of the sources (chosen by
    /// <paramref name="seed"/>) with all their packages on the held-out side, the rest on the other; order is kept.
    /// </summary>
    public static (List<PackageDescription> Kept, List<PackageDescription> HeldOut) SplitBySource(IReadOnlyList<PackageDescription> pairs, double fraction, ulong seed)
    {
        var sources = pairs.Select(p => p.Source).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var split = Split.Random(sources.Length, fraction, seed: seed);
        var heldOut = new HashSet<string>(split.Validation.Select(i => sources[i]), StringComparer.Ordinal);
        var kept = new List<PackageDescription>();
        var held = new List<PackageDescription>();
        foreach (var p in pairs) (heldOut.Contains(p.Source) ? held : kept).Add(p);
        return (kept, held);
    }

    /// <summary>Reads <see cref="TrainingConfig.Data"/> (see <see cref="ITask.Load"/>).</summary>
    public static SummarizationData Load(TrainingConfig config, RunFolder? trainedRun, bool newData)
    {
        var options = config.GetTaskOptions<SummarizationOptions>();
        var set = PackageDescriptions.Read(config.Data);
        int sources = set.Descriptions.Select(d => d.Source).Distinct(StringComparer.Ordinal).Count();
        string read = $"{Path.GetFileName(config.Data)}: {set.Descriptions.Count:N0} long descriptions of {set.Stanzas:N0} packages from {sources:N0} source packages " +
            $"({set.WithoutLongDescription:N0} without a long description and {set.Duplicates:N0} repeated descriptions left out)";
        int s = options.EffectiveSourceLength, t = options.EffectiveSummaryLength;
        if (newData)
        {
            var tokenizer = ReadTokenizer(trainedRun ?? throw new ArgumentException("new data is read for a trained run: give the run", nameof(trainedRun)));
            return new SummarizationData(tokenizer, [], set.Descriptions, s, t, options.Copy, read) { Options = options };
        }
        var (train, test) = SplitBySource(set.Descriptions, options.TestFraction, config.Seed);
        if (train.Count == 0 || test.Count == 0)
            throw new InvalidDataException($"{config.Data}: --test-fraction {options.TestFraction} of {sources} source packages leaves {train.Count} descriptions to train on and {test.Count} to test; give more packages or another fraction");
        if (options.Quick)
        {
            // Few pairs and a short test: the quick run is about the pipeline working end to end, in seconds.
            train = [.. train.Take(SummarizationOptions.QuickPairs)];
            test = [.. test.Take(SummarizationOptions.QuickPairs / 4)];
        }
        var vocabulary = trainedRun is null
            ? WordTokenizer.Fit(train.Select(p => p.Text).Concat(train.Select(p => p.Synopsis)), options.MinCount, options.VocabSize)
            : ReadTokenizer(trainedRun);
        return new SummarizationData(vocabulary, train, test, s, t, options.Copy,
            $"{read}; split by source package: {train.Count:N0} train, {test.Count:N0} test; {vocabulary.VocabSize:N0} words")
        { Options = options };
    }

    internal static WordTokenizer ReadTokenizer(RunFolder run)
    {
        var path = run.File(TokenizerFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{run.Path} has no {TokenizerFile}; was it trained by loom train on package descriptions?", path);
        return Data.Tokenizer.Load(path) as WordTokenizer ?? throw new InvalidDataException($"{path}: not a word vocabulary, which the summariser reads");
    }
}
