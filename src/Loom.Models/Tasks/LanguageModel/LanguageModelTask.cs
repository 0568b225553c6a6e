namespace Loom.Models;

/// <summary>
/// Next-token prediction on text: a GPT (gpt-small by default) trained with cross-entropy over every position of
/// windows of the text; perplexity per epoch, beside unigram and bigram baselines on the same splits; predictions and
/// the `loom generate` verb are continuations of prompts.
/// </summary>
public sealed class LanguageModelTask : ITask
{
    public const string TaskName = "language-model";

    /// <summary>A plain-text file, a folder of them, or a CSV of one text column.</summary>
    public static DataKind Text { get; } = new("text", "text");

    public string Name => TaskName;

    public string Description => "next-token prediction on text (a GPT), with generation";

    public string AcceptedData => $"a text file ({string.Join(", ", TextCorpus.TextExtensions)}, or any UTF-8 file with --task {TaskName}), a folder of text files, or a CSV with --text-column (with --task {TaskName})";

    public IReadOnlyList<DataKind> Kinds { get; } = [Text];

    public IReadOnlyList<TaskOption> Options => LanguageModelOptions.Declared;

    // GPT training as nanoGPT and GPT-2 do it: AdamW with decoupled weight decay, a warm-up then cosine decay, and the
    // gradient norm clipped to 1.
    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 16, Optimizer: "adamw", LearningRate: 1e-3, WeightDecay: 0.1, Schedule: "warmup-cosine", ClipGradNorm: 1);

    public DataKind? Recognize(string data)
    {
        if (File.Exists(data)) return TextCorpus.TextExtensions.Contains(Path.GetExtension(data), StringComparer.OrdinalIgnoreCase) ? Text : null;
        if (!Directory.Exists(data)) return null;
        // A folder of text files only (an image folder has sub-folders of images and goes to classification).
        var files = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.')) // .DS_Store and the like
            .Take(1000).ToList();
        return files.Count > 0 && files.All(f => TextCorpus.TextExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)) ? Text : null;
    }

    // Asked for by name, any file is text (README, a corpus without an extension): its reader refuses what is not UTF-8.
    public DataKind? RecognizeWhenAsked(string data) => File.Exists(data) ? Text : Recognize(data);

    public IReadOnlyList<string> Models(DataKind kind) => ["gpt-small", "gpt-tiny", "gpt2"];

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<LanguageModelOptions>();
        options.Validate();
        // The tokenizer is decided now, so config.json records it and a resumed or evaluated run reads text the same way.
        options = options with { Tokenizer = options.Tokenizer ?? (config.Model == "gpt2" ? "gpt2" : "bpe") };
        if (options.Weights is not null && config.Model != "gpt2")
            throw new ArgumentException($"--weights starts from a GPT-2 checkpoint: add --model gpt2 (not {config.Model})");
        return config.WithTaskOptions(options);
    }

    /// <remarks>With <paramref name="newData"/> the whole text is the test split (read with the run's tokenizer), and no baselines are fitted.</remarks>
    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false)
    {
        var options = config.GetTaskOptions<LanguageModelOptions>();
        ITokenizer? tokenizer = null;
        if (trainedRun is not null)
        {
            var path = trainedRun.File(LanguageModelData.TokenizerFile);
            if (!File.Exists(path)) throw new FileNotFoundException($"{trainedRun.Path} has no {LanguageModelData.TokenizerFile}; was it trained by loom train on text?", path);
            tokenizer = Data.Tokenizer.Load(path);
        }
        int context = options.Context ?? GptConfig.Preset(config.Model!, 1).Context;
        return LanguageModelData.Load(config, tokenizer, context, newData);
    }

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data) => CreateGpt(config, ((LanguageModelData)data).Tokenizer.VocabSize);

    /// <summary>The run's GPT: the preset named by the config, sized for <paramref name="vocab"/> tokens and the run's context.</summary>
    public static Gpt CreateGpt(TrainingConfig config, int vocab)
    {
        var options = config.GetTaskOptions<LanguageModelOptions>();
        if (options.Weights is { } weights)
        {
            // Fine-tuning: the checkpoint decides the shapes (the run's own weights, if any, are loaded over it).
            var gpt = Gpt2Checkpoint.Load(weights, dropout: config.Dropout);
            if (vocab > gpt.Config.Vocab)
                throw new ArgumentException($"--weights {weights} has a vocabulary of {gpt.Config.Vocab}, but the {options.Tokenizer} tokenizer has {vocab} tokens");
            int windows = options.Context ?? GptConfig.Preset(config.Model!, 1).Context;
            if (windows > gpt.Config.Context)
                throw new ArgumentException($"windows of {windows} tokens (--context) are longer than the {gpt.Config.Context} positions of {weights}");
            gpt.Train();
            return gpt;
        }
        var preset = GptConfig.Preset(config.Model!, vocab, config.Dropout, options.PositionKind) with
        {
            ShareLayers = options.ShareLayers,
            TiedEmbeddings = !options.UntieEmbeddings,
        };
        return new Gpt(options.Context is int context ? preset with { Context = context } : preset);
    }

    public Func<Tensor, Tensor, Tensor> Loss(TaskData data) =>
        (logits, targets) => Functional.CrossEntropy(logits.Reshape(-1, logits.Shape[^1]), targets.Reshape(-1));

    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => [() => new Perplexity()];

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (LanguageModelData)data;
        var result = evaluator.Evaluate(test);
        var rows = new List<IReadOnlyList<Cell>>();
        if (d.Train.Count == 0)
        {
            // New text for a trained run: its training tokens, which the baselines are fitted on, are not at hand.
            rows.Add(["test", result.Metrics["perplexity"], "-", "-"]);
            return new LanguageModelEvaluation(result, new ResultTable("Perplexity", ["split", "model", "unigram", "bigram"], rows), Samples(evaluator, d));
        }
        var testBaseline = d.Baseline.Perplexities(d.Test);
        if (d.HeldOut is { } validation)
        {
            var val = evaluator.Evaluate(Pipeline.Batches(validation, d.EvaluationBatchSize));
            var baseline = d.Baseline.Perplexities(validation);
            rows.Add(["validation", val.Metrics["perplexity"], baseline.Unigram, baseline.Bigram]);
        }
        rows.Add(["test", result.Metrics["perplexity"], testBaseline.Unigram, testBaseline.Bigram]);
        var baselines = new ResultTable("Perplexity against n-gram baselines", ["split", "model", "unigram", "bigram"], rows);
        return new LanguageModelEvaluation(result, baselines, Samples(evaluator, d));
    }

    // Three prompts from the test text, each continued by sampling (temperature 0.8, top-k 40, a fixed seed).
    private static ResultTable Samples(Evaluator evaluator, LanguageModelData data)
    {
        var generator = new TextGenerator((Gpt)evaluator.Model, data.Tokenizer);
        int n = Math.Min(3, data.Test.Count), promptTokens = Math.Min(32, data.Context / 2);
        var prompts = Enumerable.Range(0, n)
            .Select(i => data.Tokenizer.Decode(data.Test.Inputs.Select(0, i * data.Test.Count / n).Narrow(0, 0, promptTokens).ToArray<long>().Select(x => (int)x).ToArray()))
            .ToList();
        var continuations = generator.Generate(prompts, new GenerationOptions(MaxTokens: Math.Min(64, data.Context - promptTokens), Temperature: 0.8, TopK: 40, Seed: 1));
        var rows = prompts.Select((p, i) => (IReadOnlyList<Cell>)[Flat(p), Flat(continuations[i])]).ToList();
        return new ResultTable("Samples (temperature 0.8, top-k 40)", ["prompt", "continuation"], rows);
    }

    /// <summary>Per test window: its first half as the prompt, the model's greedy continuation of the same length, and the real text.</summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (LanguageModelData)data;
        int half = d.Context / 2;
        var ids = d.Test.Inputs.ToArray<long>();
        var prompts = new List<int[]>();
        var truth = new List<string>();
        for (int i = 0; i < d.Test.Count; i++)
        {
            var window = ids.AsSpan(i * d.Context, d.Context).ToArray().Select(x => (int)x).ToArray();
            prompts.Add(window[..half]);
            truth.Add(d.Tokenizer.Decode(window[half..]));
        }
        var gpt = (Gpt)evaluator.Model;
        var options = new GenerationOptions(MaxTokens: d.Context - half, Temperature: 0, StopToken: d.Tokenizer.Special.Eos);
        var continued = prompts.Chunk(d.EvaluationBatchSize).SelectMany(chunk => gpt.Generate(chunk, options)).ToList();
        var rows = prompts.Select((p, i) => (IReadOnlyList<Cell>)[(long)i, d.Tokenizer.Decode(p), d.Tokenizer.Decode(continued[i]), truth[i]]).ToList();
        return new ResultTable("Predictions", ["index", "prompt", "continuation", "actual"], rows);
    }

    /// <summary>
    /// The model and tokenizer of a trained language-model run (model.safetensors, or best.safetensors when
    /// <paramref name="best"/>), ready to generate; unlike <see cref="Pipeline.Load"/> it reads no training text.
    /// </summary>
    public static TextGenerator LoadGenerator(RunFolder folder, bool best = false)
    {
        var config = TrainedWeights.ReadConfig(folder, TaskName, "generate");
        var tokenizer = TrainedWeights.ReadTokenizer(folder, LanguageModelData.TokenizerFile);
        var gpt = CreateGpt(config, tokenizer.VocabSize);
        TrainedWeights.Load(gpt, folder, best, config.Model, config.Quantization);
        gpt.Eval();
        return new TextGenerator(gpt, tokenizer);
    }

    // One line for a Markdown table cell.
    private static string Flat(string text) => text.Replace("\r", "").Replace("\n", " ⏎ ").Replace("|", "\\|");
}
