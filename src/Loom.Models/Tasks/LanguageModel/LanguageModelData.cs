namespace Loom.Models;

/// <summary>
/// Text tokenised into one stream (each document ending with the eos token) and cut by position — training first, then the
/// validation hold-out (<see cref="HoldOut"/>), then the test split at the end — into windows of
/// <see cref="Context"/> tokens with targets shifted by one. No window crosses from one split into another.
/// </summary>
public sealed class LanguageModelData : TaskData
{
    public const string TokenizerFile = "tokenizer.json";

    private readonly int[] _trainTokens;
    private TensorDataset? _validation;
    private NGramBaseline? _baseline;

    public LanguageModelData(ITokenizer tokenizer, int[] trainTokens, int[] testTokens, int context, string description)
    {
        (Tokenizer, _trainTokens, Context, Description) = (tokenizer, trainTokens, context, description);
        Train = TokenWindows.Create(trainTokens, context);
        Test = TokenWindows.Create(testTokens, context);
    }

    private LanguageModelData(LanguageModelData parent, TensorDataset train, TensorDataset test)
    {
        (Tokenizer, _trainTokens, Context, Description) = (parent.Tokenizer, parent._trainTokens, parent.Context, parent.Description);
        (Train, Test) = (train, test);
    }

    public ITokenizer Tokenizer { get; }

    /// <summary>Tokens per window.</summary>
    public int Context { get; }

    public override TensorDataset Train { get; }

    public override TensorDataset Test { get; }

    /// <summary>The validation windows, once the trainer has held them out (<see cref="HoldOut"/>).</summary>
    public TensorDataset? HeldOut => _validation;

    public override string Description { get; }

    public override (string Name, int PerSample) Throughput => ("tokens", Context);

    // About 2,048 tokens a batch: until attention is fused, every layer's [B, heads, T, T] scores stay in the step's
    // memory scope, and 256 windows of gpt-small's 256 tokens took over 20 GB.
    public override int EvaluationBatchSize => Math.Max(1, 2048 / Context);

    /// <summary>The n-gram baselines, fitted on the training tokens that remain after the validation hold-out.</summary>
    public NGramBaseline Baseline => _baseline ??= new NGramBaseline(_trainTokens, Tokenizer.VocabSize);

    /// <summary>The last <paramref name="fraction"/> of the training tokens as validation windows (the seed is not needed: nothing is random).</summary>
    public override (IDataset<Sample> Train, IDataset<Sample> Validation) HoldOut(double fraction, ulong seed)
    {
        var (train, validation, _) = TokenWindows.SplitByPosition(_trainTokens, fraction, 0);
        var trainWindows = TokenWindows.Create(train, Context);
        _validation = TokenWindows.Create(validation, Context);
        if (trainWindows.Count == 0 || _validation.Count == 0)
            throw new ArgumentException($"the text is too short for windows of {Context} tokens: {train.Length} training and {validation.Length} validation tokens; lower --context or --val-fraction, or give more text");
        _baseline = new NGramBaseline(train, Tokenizer.VocabSize);
        return (trainWindows, _validation);
    }

    public override void Save(RunFolder folder) => Tokenizer.Save(folder.File(TokenizerFile));

    /// <summary>A cross-validation fold: the windows at the given indices (neighbouring windows share no tokens, but do share the text's topic).</summary>
    public override TaskData Fold(int[] train, int[] validation) => new LanguageModelData(this, Train.Gather(train), Train.Gather(validation));

    /// <summary>Reads the config's text, tokenises it (fitting the tokenizer on the training part unless <paramref name="tokenizer"/> is given) and splits it.</summary>
    /// <param name="newData">All of the text is the test split (new text for a trained run's tokenizer).</param>
    public static LanguageModelData Load(TrainingConfig config, ITokenizer? tokenizer, int context, bool newData = false)
    {
        var options = config.GetTaskOptions<LanguageModelOptions>();
        var corpus = config.Data.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
            ? TextCorpus.ReadCsvColumn(config.Data, options.TextColumn ?? throw new ArgumentException($"--data {config.Data} is a CSV file: name its text column with --text-column COLUMN"))
            : TextCorpus.Read(config.Data);
        // The test split is the end of the text; a tokenizer fitted here sees only the text before it.
        var (trainText, testText) = SplitText(corpus, newData ? 1 : options.TestFraction);
        tokenizer ??= Data.Tokenizer.Create(options.Tokenizer ?? "bpe", new TextCorpus([.. trainText.Select(p => p.Text)], corpus.Description), options.VocabSize);
        int[] trainTokens = Encode(tokenizer, trainText), testTokens = Encode(tokenizer, testText);
        if (TokenWindows.Count(testTokens.Length, context, context) == 0)
            throw new ArgumentException($"{config.Data}: the test split has {testTokens.Length} tokens, too few for one window of {context}; lower --context or give more text");
        return new LanguageModelData(tokenizer, trainTokens, testTokens, context,
            $"{corpus.Description}; {tokenizer.Kind} tokenizer of {tokenizer.VocabSize:N0} tokens: {trainTokens.Length + testTokens.Length:N0} tokens in windows of {context}");
    }

    // Documents in order; the test split takes the last testFraction of the characters, cutting a document at a line
    // break near the cut when there is one. Each part says whether it ends its document (and so gets an eos).
    private static (List<(string Text, bool Ends)> Train, List<(string Text, bool Ends)> Test) SplitText(TextCorpus corpus, double testFraction)
    {
        long total = corpus.Length, cut = (long)Math.Round(total * (1 - testFraction)), seen = 0;
        var train = new List<(string, bool)>();
        var test = new List<(string, bool)>();
        foreach (var doc in corpus.Documents)
        {
            if (seen + doc.Length <= cut) train.Add((doc, true));
            else if (seen >= cut) test.Add((doc, true));
            else
            {
                int at = (int)(cut - seen);
                int line = doc.LastIndexOf('\n', at);
                if (line > at / 2) at = line + 1;
                train.Add((doc[..at], false));
                test.Add((doc[at..], true));
            }
            seen += doc.Length;
        }
        return (train, test);
    }

    private static int[] Encode(ITokenizer tokenizer, List<(string Text, bool Ends)> parts)
    {
        var tokens = new List<int>();
        foreach (var (text, ends) in parts)
        {
            if (text.Length == 0) continue;
            tokens.AddRange(tokenizer.Encode(text));
            if (ends && tokenizer.Special.Eos is int eos) tokens.Add(eos);
        }
        return [.. tokens];
    }
}
