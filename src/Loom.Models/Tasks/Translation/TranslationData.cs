namespace Loom.Models;

/// <summary>
/// Sentence pairs ready for a translation model: a byte-level BPE vocabulary shared by both languages and learnt on the
/// training split only, training pairs packed as <see cref="SentencePairs"/> (those with a side longer than
/// --max-length tokens left out), and the held-out pairs of the test books with their texts, which BLEU scores.
/// </summary>
public sealed class TranslationData : TaskData
{
    public const string TokenizerFile = "tokenizer.json";

    /// <summary>The built-in English → Spanish Bible: the KJV and the Reina-Valera 1909 as Debian's sword-text-kjv and sword-text-sparv install them.</summary>
    public const string BibleName = "bible-en-es";

    public const string SwordFolder = "/usr/share/sword/modules/texts/ztext";
    public static readonly string KjvModule = Path.Combine(SwordFolder, "engKJV2006eb"), SparvModule = Path.Combine(SwordFolder, "spaRV1909eb");

    // Longer test sentences are cut: the decoder's positions end at 1,024, and no Bible verse comes near.
    private const int MaxTestTokens = 500;

    private WordDictionary? _baseline;

    public TranslationData(ITokenizer tokenizer, IReadOnlyList<ParallelPair> train, IReadOnlyList<ParallelPair> test, int maxLength, string description)
    {
        (Tokenizer, TestPairs, Description) = (tokenizer, test, description);
        var encodedTrain = train.Select(p => (Pair: p, Source: tokenizer.Encode(p.Source), Target: tokenizer.Encode(p.Target)))
            .Where(e => e.Source.Length <= maxLength && e.Target.Length <= maxLength).ToList();
        TrainPairs = [.. encodedTrain.Select(e => e.Pair)];
        LeftOut = train.Count - TrainPairs.Count;
        Train = Pack(tokenizer, encodedTrain.Select(e => (e.Source, e.Target)).ToList());
        Test = Pack(tokenizer, test.Select(p => (Cut(tokenizer.Encode(p.Source)), Cut(tokenizer.Encode(p.Target)))).ToList());
    }

    public ITokenizer Tokenizer { get; }

    /// <summary>The run's options: Evaluate and Predict decode with its beam and length penalty.</summary>
    public TranslationOptions Options { get; init; } = new();

    /// <summary>The training pairs the model trains on (its validation hold-out included), in corpus order.</summary>
    public IReadOnlyList<ParallelPair> TrainPairs { get; }

    /// <summary>Training pairs left out for a side longer than --max-length tokens.</summary>
    public int LeftOut { get; }

    /// <summary>The held-out pairs, in corpus order: the rows of <see cref="Test"/>.</summary>
    public IReadOnlyList<ParallelPair> TestPairs { get; }

    public override TensorDataset Train { get; }

    public override TensorDataset Test { get; }

    public override string Description { get; }

    // A batch's logits are [B, T, V]: 32 sentences of 100 tokens over 8,000 ids are 100 MB.
    public override int EvaluationBatchSize => 32;

    /// <summary>
    /// The word-by-word dictionary baseline learnt from the training pairs, or read from the trained run's
    /// <see cref="WordDictionary.FileName"/>; null without either (new data for a run trained before runs kept it).
    /// </summary>
    public WordDictionary? Baseline => _baseline ??= TrainPairs.Count == 0 ? null : WordDictionary.Learn(TrainPairs.Select(p => (p.Source, p.Target)));

    /// <summary>The vocabulary, and the dictionary baseline, so that every later evaluation of the run reads it instead of fitting it again.</summary>
    public override void Save(RunFolder folder)
    {
        Tokenizer.Save(folder.File(TokenizerFile));
        Baseline?.Save(folder.File(WordDictionary.FileName));
    }

    /// <summary>A cross-validation fold of the training pairs, with the run's vocabulary.</summary>
    public override TaskData Fold(int[] train, int[] validation) =>
        new TranslationData(Tokenizer, [.. train.Select(i => TrainPairs[i])], [.. validation.Select(i => TrainPairs[i])], int.MaxValue, Description) { Options = Options };

    private static int[] Cut(int[] ids) => ids.Length > MaxTestTokens ? ids[..MaxTestTokens] : ids;

    /// <summary>Samples [N, 2, L] and targets [N, L] as <see cref="SentencePairs"/> describes them; the source ends with eos.</summary>
    public static TensorDataset Pack(ITokenizer tokenizer, IReadOnlyList<(int[] Source, int[] Target)> pairs)
    {
        int bos = tokenizer.Special.Bos!.Value, eos = tokenizer.Special.Eos!.Value;
        return SentencePairs.Pack([.. pairs.Select(p => ((int[])[.. p.Source, eos], p.Target, true))], bos, eos);
    }

    /// <summary>The pairs --data (and --target-data) name, before any split.</summary>
    public static ParallelCorpus ReadCorpus(string data, string? targetData)
    {
        if (data == BibleName)
        {
            if (targetData is not null) throw new ArgumentException($"--data {BibleName} has both sides; drop --target-data");
            foreach (var module in new[] { KjvModule, SparvModule })
                if (!Directory.Exists(module)) throw new FileNotFoundException($"--data {BibleName} reads {module}: install it with apt-get install sword-text-kjv sword-text-sparv", module);
            return ParallelCorpus.FromSword(KjvModule, SparvModule);
        }
        if (IsSwordModule(data))
        {
            if (targetData is null || !IsSwordModule(targetData)) throw new ArgumentException($"--data {data} is a SWORD module: name the target language's module with --target-data FOLDER");
            return ParallelCorpus.FromSword(data, targetData);
        }
        if (targetData is not null)
        {
            if (!File.Exists(targetData)) throw new FileNotFoundException($"--target-data {targetData}: no such file", targetData);
            return ParallelCorpus.FromTextFiles(data, targetData);
        }
        if (data.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase)) return ParallelCorpus.FromTsv(data);
        throw new ArgumentException($"--data {data}: give a .tsv of source<TAB>target lines, a text file with --target-data (aligned line by line), a SWORD module folder with --target-data, or {BibleName}");
    }

    public static bool IsSwordModule(string path) =>
        Directory.Exists(path) && (File.Exists(Path.Combine(path, "ot.bzv")) || File.Exists(Path.Combine(path, "nt.bzv")));

    /// <summary>Reads, splits by book, learns the vocabulary on the training books (or reads the trained run's) and encodes.</summary>
    public static TranslationData Load(TrainingConfig config, RunFolder? trainedRun, bool newData)
    {
        var options = config.GetTaskOptions<TranslationOptions>();
        var corpus = ReadCorpus(config.Data, options.TargetData);
        var testBooks = options.TestBooks ?? DefaultTestBooks(corpus);
        var (train, test) = newData ? ([], [.. corpus.Pairs]) : corpus.SplitByBook(testBooks);
        if (!newData && train.Count == 0) throw new InvalidDataException($"{corpus.Description}: holding out {string.Join(", ", testBooks)} leaves nothing to train on");
        if (options.Quick)
        {
            // Short pairs from the start of each split: a model of seconds learns the commonest words from them.
            train = [.. train.Where(p => Words(p) <= TranslationOptions.QuickMaxLength / 2).Take(TranslationOptions.QuickPairs)];
            test = [.. test.Where(p => Words(p) <= TranslationOptions.QuickMaxLength / 2).Take(TranslationOptions.QuickTest)];
        }
        if (options.TestLimit > 0 && test.Count > options.TestLimit)
        {
            // Evenly spaced through the test split, so every held-out book is represented.
            int limit = options.TestLimit, count = test.Count;
            test = [.. Enumerable.Range(0, limit).Select(i => test[(int)((long)i * count / limit)])];
        }
        ITokenizer tokenizer;
        if (trainedRun is not null)
        {
            var path = trainedRun.File(TokenizerFile);
            if (!File.Exists(path)) throw new FileNotFoundException($"{trainedRun.Path} has no {TokenizerFile}; was it trained by loom train --task translation?", path);
            tokenizer = Data.Tokenizer.Load(path);
        }
        else
        {
            tokenizer = BpeTrainer.Train(train.Select(p => p.Source).Concat(train.Select(p => p.Target)), options.EffectiveVocab);
        }
        var data = new TranslationData(tokenizer, train, test, options.EffectiveMaxLength, "");
        if (trainedRun is not null && File.Exists(trainedRun.File(WordDictionary.FileName))) data._baseline = WordDictionary.Load(trainedRun.File(WordDictionary.FileName));
        string held = newData ? "all of it as test data" : $"test books {string.Join(", ", testBooks)}: {test.Count:N0} pairs; training {data.TrainPairs.Count:N0} pairs" +
            (data.LeftOut > 0 ? $" ({data.LeftOut:N0} longer than {options.EffectiveMaxLength} tokens left out)" : "");
        return new TranslationData(tokenizer, data, $"{corpus.Description}; {held}; shared BPE vocabulary of {tokenizer.VocabSize:N0} tokens") { Options = options };
    }

    private TranslationData(ITokenizer tokenizer, TranslationData encoded, string description)
    {
        (Tokenizer, TrainPairs, LeftOut, TestPairs, Train, Test, Description) =
            (tokenizer, encoded.TrainPairs, encoded.LeftOut, encoded.TestPairs, encoded.Train, encoded.Test, description);
        _baseline = encoded._baseline;
    }

    /// <summary>Every 8th book from the 5th (Deuteronomy, 1 Chronicles, Ecclesiastes, Joel, Haggai, Romans, 2 Thessalonians, 2 Peter in the Bible); the last group of a smaller corpus.</summary>
    public static IReadOnlyList<string> DefaultTestBooks(ParallelCorpus corpus) =>
        corpus.EveryNthBook() is { Count: > 0 } books ? books : [corpus.Books[^1]];

    private static int Words(ParallelPair p) => Math.Max(WordTokenizer.Split(p.Source).Count, WordTokenizer.Split(p.Target).Count);
}
