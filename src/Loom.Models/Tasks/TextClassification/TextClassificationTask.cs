namespace Loom.Models;

/// <summary>
/// One class per text, from a CSV of texts and labels (sentiment, topic…): word vocabulary fitted on the training
/// texts, a text CNN (Kim 2014, the default), a BiLSTM or a small transformer encoder, or a head on the sentence
/// embeddings of a frozen pretrained encoder (all-MiniLM-L6-v2); cross-entropy, accuracy and
/// macro F1 beside a VADER lexicon baseline scored by the same metrics; predictions are the class and its probabilities.
/// </summary>
public sealed class TextClassificationTask : ITask
{
    public const string TaskName = "text-classification";

    /// <summary>A CSV (or TSV) of a free-text column and a label column.</summary>
    public static DataKind LabelledText { get; } = new("labelled-text", "labelled text (a CSV of texts and labels)");

    public string Name => TaskName;

    public string Description => "one class per text of a CSV (sentiment, topic), with a lexicon baseline";

    public string AcceptedData => "a .csv or .tsv file of a text column and a label column (--text-column, --target)";

    public IReadOnlyList<DataKind> Kinds { get; } = [LabelledText];

    public IReadOnlyList<TaskOption> Options => TextClassificationOptions.Declared;

    // Kim's recipe as far as it carries over: Adam instead of Adadelta (it needs no tuning of its own), mini-batches of
    // 50, the gradient norm clipped (Kim clipped weight norms at 3, which is the recurrent models' safeguard here).
    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 50, Optimizer: "adam", LearningRate: 1e-3, WeightDecay: 0, Schedule: "cosine", ClipGradNorm: 5);

    // Claimed before classification, which would read a text column as thousands of categories.
    public DataKind? Recognize(string data) => TextTable.LooksLikeText(data) ? LabelledText : null;

    public DataKind? RecognizeWhenAsked(string data) =>
        File.Exists(data) && TextTable.Extensions.Contains(Path.GetExtension(data), StringComparer.OrdinalIgnoreCase) ? LabelledText : null;

    public IReadOnlyList<string> Models(DataKind kind) => ["textcnn", "bilstm", "transformer", "fasttext", MiniLmModel, MiniLmFastTextModel];

    /// <summary>A head on all-MiniLM-L6-v2's sentence embeddings, the encoder frozen.</summary>
    public const string MiniLmModel = "minilm";

    /// <summary>MiniLM's sentence embedding and fastText's n-gram bag in one linear model (<see cref="EmbeddingNgramClassifier"/>).</summary>
    public const string MiniLmFastTextModel = "minilm-fasttext";

    /// <summary>Whether the run's model reads a pretrained encoder's embeddings.</summary>
    public static bool UsesEncoder(TrainingConfig config) => config.Model is MiniLmModel or MiniLmFastTextModel;

    /// <summary>Whether the run's model reads word ids of its own vocabulary (with or without embeddings beside them).</summary>
    public static bool UsesWords(TrainingConfig config) => config.Model != MiniLmModel;

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<TextClassificationOptions>();
        options.Validate();
        return config.WithTaskOptions(options);
    }

    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false)
    {
        if (newData && trainedRun is null) throw new ArgumentException("new data is read for a trained run: give the run", nameof(trainedRun));
        return TextClassificationData.Load(config, trainedRun, newData);
    }

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data)
    {
        var d = (TextClassificationData)data;
        if (d.Tokenizer is null) return CreateHead(config, d.Embeddings!.Encoder.Dim, d.ClassNames.Count);
        var tokenizer = d.Tokenizer;
        var o = config.GetTaskOptions<TextClassificationOptions>();
        var ids = d.Embeddings is { } embeddings ? EmbeddingNgramClassifier.Ids(d.Train.Inputs, embeddings.Encoder.Dim) : d.Train.Inputs;
        // Fitted on the training split (a fold's, under loom cv), like the vocabulary; saved with the model.
        var ratios = (config.Model is "fasttext" or MiniLmFastTextModel) && UsesNaiveBayes(o, d.ClassNames.Count)
            ? NgramBag.NaiveBayesRatios(ids, d.Train.Targets, tokenizer.VocabSize, Buckets(o))
            : null;
        return CreateModel(config, tokenizer, d.ClassNames.Count, ratios, d.Embeddings?.Encoder.Dim);
    }

    // 2^18 buckets keep a training set's few ten thousand bigrams mostly apart, while the table (which Adam updates
    // whole at every step) stays near 3 M numbers.
    private static int Buckets(TextClassificationOptions o) => o.Quick ? 1 << 14 : 1 << 18;

    // Log-count ratios compare two classes; with more, fastText runs plain.
    private static bool UsesNaiveBayes(TextClassificationOptions o, int classes) => o.NgramWeights == "nb" && classes == 2;

    /// <summary>The head of a model on a frozen encoder, for embeddings of width <paramref name="dim"/>.</summary>
    public static Module<Tensor, Tensor> CreateHead(TrainingConfig config, int dim, int classes) => new EmbeddingClassifier(dim, classes, dropout: config.Dropout);

    /// <summary>
    /// The run's model for the words of <paramref name="tokenizer"/> and <paramref name="classes"/> classes.
    /// <paramref name="ngramRatios"/>: fastText's naive-Bayes weights when fitted; left out, placeholders that a trained
    /// run's weights replace. <paramref name="encoderDim"/>: the width of the sentence embeddings beside the words
    /// (<see cref="MiniLmFastTextModel"/>).
    /// </summary>
    public static Module<Tensor, Tensor> CreateModel(TrainingConfig config, WordTokenizer tokenizer, int classes, Tensor? ngramRatios = null, int? encoderDim = null)
    {
        var o = config.GetTaskOptions<TextClassificationOptions>();
        int vocab = tokenizer.VocabSize;
        var scores = o.WordScores == "lexicon" ? LexiconScores(tokenizer) : null;
        int dim = o.Quick ? TextClassificationOptions.QuickWidth : o.EmbeddingDim;
        return config.Model switch
        {
            "textcnn" => new TextCnn(vocab, classes, dim, filters: o.Quick ? TextClassificationOptions.QuickWidth : 100, dropout: config.Dropout, wordScores: scores),
            "bilstm" => new BiLstmClassifier(vocab, classes, dim, hidden: dim, dropout: config.Dropout, wordScores: scores),
            "fasttext" => new NgramBag(vocab, classes, dim: FastTextDim, buckets: Buckets(o), dropout: config.Dropout,
                ratios: UsesNaiveBayes(o, classes) ? ngramRatios ?? Tensor.Zeros(vocab + Buckets(o)) : null),
            MiniLmFastTextModel => new EmbeddingNgramClassifier(encoderDim ?? throw new ArgumentException($"--model {MiniLmFastTextModel} needs the encoder's width"),
                vocab, classes, FastTextDim, Buckets(o), config.Dropout, UsesNaiveBayes(o, classes) ? ngramRatios ?? Tensor.Zeros(vocab + Buckets(o)) : null),
            "transformer" => new TransformerClassifier(vocab, classes, dim, layers: o.Quick ? 1 : 2, heads: 4, dropout: config.Dropout, wordScores: scores, shareLayers: o.ShareLayers),
            _ => throw new ArgumentException($"--model {config.Model} is not a text model; {TaskName} uses textcnn, bilstm, transformer, fasttext, {MiniLmModel} or {MiniLmFastTextModel}"),
        };
    }

    // fastText's width for sentiment: a bag of n-grams needs few dimensions, and its table has a million rows.
    private const int FastTextDim = 10;

    /// <summary>[V] each vocabulary word's VADER valence divided by 4 (the lexicon's range), 0 for special tokens and unrated words.</summary>
    public static Tensor LexiconScores(WordTokenizer tokenizer)
    {
        var scores = new double[tokenizer.VocabSize];
        for (int i = 0; i < tokenizer.Words.Count; i++) scores[i + SpecialTokens.ReservedCount] = SentimentLexicon.Vader.Valence(tokenizer.Words[i]) / 4;
        return Tensor.FromArray(scores, scores.Length);
    }

    public Func<Tensor, Tensor, Tensor> Loss(TaskData data) => (output, target) => Functional.CrossEntropy(output, target);

    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => ClassificationEvaluation.ClassMetrics(((TextClassificationData)data).ClassNames.Count);

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (TextClassificationData)data;
        var names = d.ClassNames;
        var confusion = new ConfusionMatrix(names.Count);
        var result = evaluator.Evaluate(test, confusion);
        ResultTable? baselineTable = null;
        if (d.Baseline is { } baseline && d.Unlabelled is null && d.TestTexts.Count > 0)
        {
            // The baseline's classes as one-hot scores, through the same metric objects as the model's.
            var scores = OneHot(d.TestTexts.Select(baseline.Predict).ToArray(), names.Count);
            var accuracy = new Accuracy();
            var f1 = new PrecisionRecallF1(names.Count, ClassificationScore.F1, Averaging.Macro);
            foreach (var metric in new IMetric[] { accuracy, f1 }) metric.Update(scores, d.Test.Targets);
            var metrics = new Dictionary<string, double>(result.Metrics)
            {
                ["lexicon_" + accuracy.Name] = accuracy.Compute(),
                ["lexicon_" + f1.Name] = f1.Compute(),
            };
            baselineTable = new ResultTable("Model against the VADER lexicon baseline", ["", "accuracy", "F1 (macro)"],
            [
                [evaluator.Model.GetType().Name, result.Metrics[accuracy.Name], result.Metrics[f1.Name]],
                [$"lexicon (class '{names[baseline.Positive]}' above {baseline.Threshold:G4})", metrics["lexicon_" + accuracy.Name], metrics["lexicon_" + f1.Name]],
            ]);
            result = result with { Metrics = metrics };
        }
        return new TextClassificationEvaluation(result, confusion, names, baselineTable, Examples(evaluator, d));
    }

    // The first five test texts with their classes and the model's.
    private static ResultTable Examples(Evaluator evaluator, TextClassificationData d)
    {
        int n = Math.Min(5, d.TestTexts.Count);
        var texts = d.TestTexts.Take(n).ToList();
        var rows = new List<IReadOnlyList<Cell>>();
        if (n > 0)
        {
            var p = Probabilities(evaluator.Model, d.EncodeTexts(texts));
            for (int i = 0; i < n; i++)
            {
                int best = ArgMax(p[i]);
                rows.Add([Shorten(texts[i], 120), d.Unlabelled is null ? d.ClassNames[d.TestLabels[i]] : "-", d.ClassNames[best], p[i][best]]);
            }
        }
        return new ResultTable("Examples", ["text", "label", "predicted", "probability"], rows);
    }

    /// <summary>Per test text: its line in the file, its text, its label when the data has labels, the predicted class and its probability, and every class's probability (p_NAME).</summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (TextClassificationData)data;
        return ClassificationEvaluation.Predictions(evaluator.Predict(test), d.ClassNames, ["line", "text"],
            i => [(long)(d.TestLines?[i] ?? i), Shorten(d.TestTexts[i], 200)], d.Unlabelled is null ? i => d.TestLabels[i] : null);
    }

    /// <summary>Softmax probabilities [N][C] of <paramref name="model"/> on word ids [N, T], without gradients.</summary>
    internal static double[][] Probabilities(Module<Tensor, Tensor> model, Tensor ids)
    {
        using var noGrad = new Loom.Autograd.NoGrad();
        bool training = model.Training;
        model.Eval();
        try
        {
            var p = model.Forward(ids).Softmax(-1);
            int c = p.Shape[1];
            var flat = p.ToArray<double>();
            return [.. Enumerable.Range(0, p.Shape[0]).Select(i => flat.AsSpan(i * c, c).ToArray())];
        }
        finally
        {
            if (training) model.Train();
        }
    }

    internal static int ArgMax(double[] row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    private static Tensor OneHot(int[] classes, int count)
    {
        var v = new double[classes.Length * count];
        for (int i = 0; i < classes.Length; i++) v[i * count + classes[i]] = 1;
        return Tensor.FromArray(v, classes.Length, count);
    }

    private static string Shorten(string text, int length)
    {
        var flat = text.ReplaceLineEndings(" ");
        return flat.Length <= length ? flat : flat[..(length - 1)] + "…";
    }
}
