using Loom.Data;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// Package descriptions ready for a <see cref="Seq2SeqTransformer"/>: inputs [N, S + T + 1] (the long description's
/// first S word ids, padded with 0, then bos and the synopsis's ids, padded with 0), targets [N, T + 1] (the synopsis's
/// ids then eos, padded with −100, which the loss ignores). Splits are by source package: every binary package of a
/// source lands on the same side, so near-identical descriptions (foo, foo-dev, foo-doc) never cross a split. The
/// vocabulary is fitted on the training pairs' descriptions and synopses.
/// </summary>
public sealed class SummarizationData : TaskData
{
    public const string TokenizerFile = "tokenizer.json";

    /// <summary>Target padding: left out of the loss and perplexity.</summary>
    public const long IgnoredTarget = -100;

    private IReadOnlyList<PackageDescription>? _heldOut;

    public SummarizationData(WordTokenizer tokenizer, IReadOnlyList<PackageDescription> train, IReadOnlyList<PackageDescription> test,
        int sourceLength, int summaryLength, string description)
    {
        (Tokenizer, TrainPairs, TestPairs, SourceLength, SummaryLength, Description) = (tokenizer, train, test, sourceLength, summaryLength, description);
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

    /// <summary>Words of a summary at least, when decoding.</summary>
    public int MinSummaryLength { get; init; }

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
        new SummarizationData(Tokenizer, [.. train.Select(i => TrainPairs[i])], [.. validation.Select(i => TrainPairs[i])], SourceLength, SummaryLength, Description)
        { MinSummaryLength = MinSummaryLength };

    /// <summary>Source ids [N, S] of <paramref name="texts"/>: each text's first S words (an empty text is one unk), padded with 0.</summary>
    public static Tensor EncodeSources(WordTokenizer tokenizer, IReadOnlyList<string> texts, int sourceLength)
    {
        var ids = new long[texts.Count * sourceLength];
        for (int r = 0; r < texts.Count; r++)
        {
            var words = tokenizer.Encode(texts[r]);
            if (words.Length == 0) words = [tokenizer.Special.Unk!.Value];
            for (int j = 0; j < Math.Min(words.Length, sourceLength); j++) ids[r * sourceLength + j] = words[j];
        }
        return Tensor.FromArray(ids, texts.Count, sourceLength);
    }

    private TensorDataset Encode(IReadOnlyList<PackageDescription> pairs)
    {
        int s = SourceLength, t = SummaryLength + 1;
        var sources = EncodeSources(Tokenizer, [.. pairs.Select(p => p.Text)], s).ToArray<long>();
        var inputs = new long[pairs.Count * (s + t)];
        var targets = new long[pairs.Count * t];
        Array.Fill(targets, IgnoredTarget);
        var special = Tokenizer.Special;
        for (int r = 0; r < pairs.Count; r++)
        {
            Array.Copy(sources, r * s, inputs, r * (s + t), s);
            var summary = Tokenizer.Encode(pairs[r].Synopsis);
            int n = Math.Min(summary.Length, SummaryLength);
            inputs[r * (s + t) + s] = special.Bos!.Value;
            for (int j = 0; j < n; j++)
            {
                inputs[r * (s + t) + s + 1 + j] = summary[j];
                targets[r * t + j] = summary[j];
            }
            // A synopsis cut at SummaryLength has no eos: the model learns to stop only where a synopsis really ends.
            if (n == summary.Length) targets[r * t + n] = special.Eos!.Value;
        }
        return new TensorDataset(Tensor.FromArray(inputs, pairs.Count, s + t), Tensor.FromArray(targets, pairs.Count, t));
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
            return new SummarizationData(tokenizer, [], set.Descriptions, s, t, read) { MinSummaryLength = options.MinSummaryLength };
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
        return new SummarizationData(vocabulary, train, test, s, t,
            $"{read}; split by source package: {train.Count:N0} train, {test.Count:N0} test; {vocabulary.VocabSize:N0} words")
        { MinSummaryLength = options.MinSummaryLength };
    }

    internal static WordTokenizer ReadTokenizer(RunFolder run)
    {
        var path = run.File(TokenizerFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{run.Path} has no {TokenizerFile}; was it trained by loom train on package descriptions?", path);
        return Data.Tokenizer.Load(path) as WordTokenizer ?? throw new InvalidDataException($"{path}: not a word vocabulary, which the summariser reads");
    }
}
