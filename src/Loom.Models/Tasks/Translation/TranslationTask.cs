namespace Loom.Models;

/// <summary>
/// Machine translation of aligned sentence pairs (the English and Spanish Bibles by default, split by book): an
/// encoder–decoder transformer (the default) or an attention LSTM over a shared BPE vocabulary, trained with
/// label-smoothed cross-entropy; the report scores greedy and beam-search translations of the held-out books with
/// corpus BLEU beside the word-by-word dictionary baseline, with example translations next to their references.
/// </summary>
public sealed class TranslationTask : ITask
{
    public const string TaskName = "translation";

    /// <summary>Label smoothing of the training loss (Szegedy et al. 2016), as the transformer paper trains with.</summary>
    public const double LabelSmoothing = 0.1;

    /// <summary>Sentence pairs: a TSV, two aligned text files, two SWORD modules or the built-in Bible pair.</summary>
    public static DataKind Parallel { get; } = new("parallel", "sentence pairs");

    public string Name => TaskName;

    public string Description => "machine translation of sentence pairs (greedy and beam search, BLEU against a dictionary baseline)";

    public string AcceptedData => $"{TranslationData.BibleName}, a .tsv of source<TAB>target[<TAB>book] lines, or a text file or SWORD module folder with --target-data (with --task {TaskName} for files)";

    public IReadOnlyList<DataKind> Kinds { get; } = [Parallel];

    public IReadOnlyList<TaskOption> Options => TranslationOptions.Declared;

    // Transformer training as in fairseq's recipes, scaled down: AdamW, warm-up then cosine decay, gradients clipped.
    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 32, Optimizer: "adamw", LearningRate: 1e-3, WeightDecay: 0.01, Schedule: "warmup-cosine", ClipGradNorm: 1);

    // Only what is unmistakably parallel data; a .tsv or text file is translation's only when --task says so.
    public DataKind? Recognize(string data) => data == TranslationData.BibleName || TranslationData.IsSwordModule(data) ? Parallel : null;

    public DataKind? RecognizeWhenAsked(string data) => Recognize(data) ?? (File.Exists(data) ? Parallel : null);

    public IReadOnlyList<string> Models(DataKind kind) => ["translation-transformer", "translation-lstm"];

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<TranslationOptions>();
        options.Validate();
        if (options.TargetData is { } target && !target.Equals(Path.GetFullPath(target), StringComparison.Ordinal))
            options = options with { TargetData = Path.GetFullPath(target) }; // like --data: found again from any working directory
        return config.WithTaskOptions(options);
    }

    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false) => TranslationData.Load(config, trainedRun, newData);

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data) => CreateModel(config, ((TranslationData)data).Tokenizer.VocabSize);

    /// <summary>The run's model for a vocabulary of <paramref name="vocab"/> ids.</summary>
    public static Module<Tensor, Tensor> CreateModel(TrainingConfig config, int vocab)
    {
        var o = config.GetTaskOptions<TranslationOptions>();
        int dim = o.EffectiveDim, layers = o.EffectiveLayers;
        return config.Model switch
        {
            "translation-transformer" => new Seq2SeqTransformer(vocab, dim, layers, o.Heads, config.Dropout, "relu"),
            "translation-lstm" => new AttentionLstmTranslator(vocab, dim, o.Quick ? 1 : Math.Min(layers, 2), config.Dropout),
            _ => throw new ArgumentException($"--model {config.Model} is not a translation model; {TaskName} uses translation-transformer or translation-lstm"),
        };
    }

    public Func<Tensor, Tensor, Tensor> Loss(TaskData data) => SequenceTasks.Loss(LabelSmoothing);

    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => SequenceTasks.Metrics();

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (TranslationData)data;
        var result = evaluator.Evaluate(test);
        var options = d.Options;
        var translator = new Translator(evaluator.Model, d.Tokenizer, options.Beam, options.LengthPenalty);
        var sources = d.TestPairs.Select(p => p.Source).ToList();
        var references = d.TestPairs.Select(p => p.Target).ToList();
        // Wall time of each part, in the metrics: what a slow evaluation spends its time on.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var greedy = translator.Translate(sources, beam: 1);
        double greedySeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var beam = options.Beam > 1 ? translator.Translate(sources) : greedy;
        double beamSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var baseline = d.Baseline is { } dictionary ? sources.Select(dictionary.Translate).ToList() : null;
        double baselineSeconds = clock.Elapsed.TotalSeconds;
        double greedyBleu = Bleu.Corpus(greedy, references), beamBleu = Bleu.Corpus(beam, references);
        var metrics = new Dictionary<string, double>(result.Metrics)
        {
            ["bleu"] = options.Beam > 1 ? beamBleu : greedyBleu, ["bleu_greedy"] = greedyBleu,
            ["seconds_greedy"] = greedySeconds, ["seconds_beam"] = beamSeconds, ["seconds_dictionary"] = baselineSeconds,
        };
        if (baseline is not null) metrics["bleu_dictionary"] = Bleu.Corpus(baseline, references);
        var rows = new List<IReadOnlyList<Cell>>();
        rows.Add(["model, greedy", greedyBleu, Bleu.Statistics(greedy, references).BrevityPenalty]);
        if (options.Beam > 1) rows.Add([$"model, beam {options.Beam} (length penalty α = {options.LengthPenalty})", beamBleu, Bleu.Statistics(beam, references).BrevityPenalty]);
        if (baseline is not null) rows.Add(["word-by-word dictionary (IBM model 1, training books)", metrics["bleu_dictionary"], Bleu.Statistics(baseline, references).BrevityPenalty]);
        rows.Add(["copying the source", Bleu.Corpus(sources, references), Bleu.Statistics(sources, references).BrevityPenalty]);
        var scores = new ResultTable($"BLEU on the held-out data ({d.TestPairs.Count:N0} pairs; sacreBLEU 13a, cased)", ["translation", "BLEU", "brevity penalty"], rows);
        int n = Math.Min(6, d.TestPairs.Count);
        var examples = Enumerable.Range(0, n).Select(k => k * d.TestPairs.Count / Math.Max(n, 1)).Select(i => (IReadOnlyList<Cell>)
            [d.TestPairs[i].Book, Flat(sources[i]), Flat(references[i]), Flat(beam[i]), baseline is null ? "-" : Flat(baseline[i])]).ToList();
        var table = new ResultTable("Example translations", ["book", "source", "reference", "model", "dictionary baseline"], examples);
        return new TranslationEvaluation(result with { Metrics = metrics }, [scores, table]);
    }

    /// <summary>Per test pair: its book, source, reference and the model's translation (beam search of the run's width).</summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (TranslationData)data;
        var options = d.Options;
        var translations = new Translator(evaluator.Model, d.Tokenizer, options.Beam, options.LengthPenalty).Translate([.. d.TestPairs.Select(p => p.Source)]);
        var rows = d.TestPairs.Select((p, i) => (IReadOnlyList<Cell>)[(long)i, p.Book, p.Source, p.Target, translations[i]]).ToList();
        return new ResultTable("Predictions", ["index", "book", "source", "reference", "translation"], rows);
    }

    /// <summary>
    /// A trained translation run's model and vocabulary (model.safetensors, or best.safetensors when
    /// <paramref name="best"/>), ready to translate; unlike <see cref="Pipeline.Load"/> it reads no corpus.
    /// </summary>
    public static Translator LoadTranslator(RunFolder folder, bool best = false, int? beam = null)
    {
        var config = TrainedWeights.ReadConfig(folder, TaskName, "translate");
        var tokenizer = TrainedWeights.ReadTokenizer(folder, TranslationData.TokenizerFile);
        var model = CreateModel(config, tokenizer.VocabSize);
        TrainedWeights.Load(model, folder, best, config.Model);
        model.Eval();
        var options = config.GetTaskOptions<TranslationOptions>();
        return new Translator(model, tokenizer, beam ?? options.Beam, options.LengthPenalty);
    }

    // One line for a Markdown table cell.
    private static string Flat(string text) => text.Replace("\r", "").Replace("\n", " ⏎ ").Replace("|", "\\|");
}

/// <summary>A translation model's test evaluation: loss, perplexity and BLEU, the BLEU table beside the baselines, and example translations.</summary>
public sealed class TranslationEvaluation(EvaluationResult result, IReadOnlyList<ResultTable> tables) : TaskEvaluation(result)
{
    public override IReadOnlyList<ResultTable> Tables => tables;
}
