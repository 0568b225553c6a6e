namespace Loom.Models;

/// <summary>
/// One-line summaries of long texts, trained on Debian package descriptions (long description → synopsis) read from
/// a package index (`apt-cache show` output, /var/lib/dpkg/status, a Translation-en file): an encoder–decoder
/// transformer with plain attention, cross-entropy per word, greedy decoding; ROUGE-1/2/L beside the lead baseline
/// tuned on the validation split; predictions and `loom summarize` are the model's summaries. See
/// docs/notes/summarization.md.
/// </summary>
public sealed class SummarizationTask : ITask
{
    public const string TaskName = "summarization";

    /// <summary>A Debian package index in control-file form with long descriptions.</summary>
    public static DataKind PackageIndex { get; } = new("package-index", "a Debian package index (control-file stanzas)");

    public string Name => TaskName;

    public string Description => "one-line summaries of long texts (Debian package synopses from their descriptions), with ROUGE and a lead baseline";

    public string AcceptedData => "a Debian package index of 'Package:' stanzas with long descriptions (apt-cache show output, /var/lib/dpkg/status)";

    public IReadOnlyList<DataKind> Kinds { get; } = [PackageIndex];

    public IReadOnlyList<TaskOption> Options => SummarizationOptions.Declared;

    // The transformer recipe of the language model: AdamW, warm-up then cosine decay, the gradient norm clipped to 1.
    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 64, Optimizer: "adamw", LearningRate: 1e-3, WeightDecay: 0.01, Schedule: "warmup-cosine", ClipGradNorm: 1);

    // A file whose first stanza starts with a Package field, read from its first few KB only.
    public DataKind? Recognize(string data)
    {
        if (!File.Exists(data)) return null;
        try
        {
            using var reader = new StreamReader(data);
            var buffer = new char[4096];
            int read = reader.ReadBlock(buffer, 0, buffer.Length);
            var first = new string(buffer, 0, read).Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.Trim().Length > 0 && !l.StartsWith('#'));
            return first is not null && first.StartsWith("Package:", StringComparison.OrdinalIgnoreCase) ? PackageIndex : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public IReadOnlyList<string> Models(DataKind kind) => ["seq2seq"];

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<SummarizationOptions>();
        options.Validate();
        return config.WithTaskOptions(options);
    }

    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false) => SummarizationData.Load(config, trainedRun, newData);

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data) => CreateModel(config, ((SummarizationData)data).Tokenizer.VocabSize);

    /// <summary>The run's encoder–decoder for a vocabulary of <paramref name="vocab"/> words (a pointer-generator with --copy).</summary>
    public static Seq2SeqTransformer CreateModel(TrainingConfig config, int vocab)
    {
        var o = config.GetTaskOptions<SummarizationOptions>();
        // One extended id per source word at most: every unknown word of a source can be copied.
        var copy = o.Copy ? new CopyMechanism(o.EffectiveSourceLength, SpecialTokens.Reserved.Unk!.Value) : null;
        return new Seq2SeqTransformer(vocab, o.EffectiveDim, o.EffectiveLayers, heads: 4, config.Dropout, "gelu", copy);
    }

    public Func<Tensor, Tensor, Tensor> Loss(TaskData data) => SequenceTasks.Loss();

    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => SequenceTasks.Metrics();

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (SummarizationData)data;
        var result = evaluator.Evaluate(test);
        var references = d.TestPairs.Select(p => p.Synopsis).ToList();
        var summaries = Summarize(evaluator.Model, d.Tokenizer, [.. d.TestPairs.Select(p => p.Text)], d.SourceLength, d.SummaryLength, d.Options);
        var scores = Rouge.Corpus(summaries, references);
        var metrics = new Dictionary<string, double>(result.Metrics) { ["rouge1"] = scores.Rouge1, ["rouge2"] = scores.Rouge2, ["rougeL"] = scores.RougeL };
        var rows = new List<IReadOnlyList<Cell>>();
        rows.Add([$"{(d.Copy ? "pointer-generator" : "seq2seq")} ({(d.Options.Beam > 1 ? $"beam {d.Options.Beam}" : "greedy")})", scores.Rouge1, scores.Rouge2, scores.RougeL]);
        List<string>? leads = null;
        // The lead's length is tuned on the validation pairs; new data for a trained run has no training pairs to tune on.
        var tuning = d.HeldOut ?? (d.TrainPairs.Count > 0 ? d.TrainPairs : null);
        if (tuning is not null)
        {
            var lead = LeadBaseline.Tune([.. tuning.Select(p => p.Text)], [.. tuning.Select(p => p.Synopsis)]);
            leads = [.. d.TestPairs.Select(p => lead.Summarize(p.Text))];
            var leadScores = Rouge.Corpus(leads, references);
            metrics["lead_words"] = lead.Words;
            metrics["lead_rouge1"] = leadScores.Rouge1;
            metrics["lead_rouge2"] = leadScores.Rouge2;
            metrics["lead_rougeL"] = leadScores.RougeL;
            rows.Add([$"lead-{lead.Words} (tuned on {(d.HeldOut is null ? "training" : "validation")} ROUGE-L)", leadScores.Rouge1, leadScores.Rouge2, leadScores.RougeL]);
        }
        var table = new ResultTable($"ROUGE F-measure on {d.TestPairs.Count:N0} test descriptions", ["summariser", "ROUGE-1", "ROUGE-2", "ROUGE-L"], rows);
        var examples = new List<IReadOnlyList<Cell>>();
        int shown = Math.Min(8, d.TestPairs.Count);
        for (int i = 0; i < shown; i++)
        {
            int at = i * d.TestPairs.Count / shown;
            var p = d.TestPairs[at];
            examples.Add([p.Package, Shorten(p.Text, 160), p.Synopsis, summaries[at], leads?[at] ?? "-"]);
        }
        return new SummarizationEvaluation(result with { Metrics = metrics }, table,
            new ResultTable("Examples (test)", ["package", "description", "synopsis", "model", "lead"], examples));
    }

    /// <summary>Per test description: the package, its synopsis and the model's summary.</summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (SummarizationData)data;
        var summaries = Summarize(evaluator.Model, d.Tokenizer, [.. d.TestPairs.Select(p => p.Text)], d.SourceLength, d.SummaryLength, d.Options);
        var rows = d.TestPairs.Select((p, i) => (IReadOnlyList<Cell>)[(long)p.Line, p.Package, p.Synopsis, summaries[i]]).ToList();
        return new ResultTable("Predictions", ["line", "package", "synopsis", "summary"], rows);
    }

    /// <summary>
    /// Summaries of <paramref name="texts"/> (their first <paramref name="sourceLength"/> words), decoded as
    /// <paramref name="options"/> say: greedy or beam search, --min-summary-length to <paramref name="maxWords"/> words,
    /// never pad, bos or unk (an unk would only be left out of the text and cost a word of the summary); with --copy an
    /// extended id is the source's own unknown word.
    /// </summary>
    public static List<string> Summarize(Module<Tensor, Tensor> model, WordTokenizer tokenizer, IReadOnlyList<string> texts, int sourceLength, int maxWords, SummarizationOptions options)
    {
        var special = tokenizer.Special;
        int[] banned = [special.Pad!.Value, special.Bos!.Value, special.Unk!.Value];
        var encoded = texts.Select(t => SummarizationData.EncodeSource(tokenizer, t, sourceLength, options.Copy)).ToList();
        int eos = special.Eos!.Value, minWords = Math.Min(options.MinSummaryLength, maxWords);
        var best = SequenceTasks.Decode(model, [.. encoded.Select(e => e.Ids)], special.Bos!.Value, eos, _ => maxWords, options.Beam, options.LengthPenalty,
            decoder => new ConstrainedDecoder(decoder, eos, minWords, banned));
        return [.. best.Select((ids, i) => SummarizationData.DecodeSummary(tokenizer, ids, encoded[i].Unknown))];
    }

    private static string Shorten(string text, int length)
    {
        var flat = text.ReplaceLineEndings(" ");
        return flat.Length <= length ? flat : flat[..(length - 1)] + "…";
    }
}
