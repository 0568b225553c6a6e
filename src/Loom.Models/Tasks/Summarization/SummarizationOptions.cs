namespace Loom.Models;

/// <summary>The options of <see cref="SummarizationTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record SummarizationOptions
{
    /// <summary>Words of the long description the encoder reads; the rest is cut off.</summary>
    public int SourceLength { get; init; } = 96;

    /// <summary>Words of a summary at most (longer references are cut for training; decoding stops here).</summary>
    public int SummaryLength { get; init; } = 20;

    /// <summary>
    /// Words of a summary at least: greedy decoding does not stop before. 0 by default: held back from stopping, the
    /// one-epoch model of docs/notes/summarization.md repeated words ("the the the") and lost 1.3 ROUGE-L.
    /// </summary>
    public int MinSummaryLength { get; init; }

    /// <summary>Training words seen fewer times than this are unknown words.</summary>
    public int MinCount { get; init; } = 3;

    /// <summary>The most frequent training words kept in the vocabulary at most.</summary>
    public int VocabSize { get; init; } = 16000;

    /// <summary>Width of the embeddings and the transformer.</summary>
    public int Dim { get; init; } = 256;

    /// <summary>Encoder layers, and as many decoder layers.</summary>
    public int Layers { get; init; } = 3;

    /// <summary>Hypotheses kept by beam search; 1: greedy decoding.</summary>
    public int Beam { get; init; } = 1;

    /// <summary>α of GNMT's length penalty in beam search.</summary>
    public double LengthPenalty { get; init; } = 0.6;

    /// <summary>
    /// A pointer-generator (See et al. 2017) instead of plain attention: the decoder can copy any source word, one the
    /// vocabulary lacks included (extended ids, one per distinct unknown word of a source).
    /// </summary>
    public bool Copy { get; init; }

    /// <summary>Share of the source packages held out (with all their binary packages) as the test split.</summary>
    public double TestFraction { get; init; } = 0.1;

    /// <summary>A small model, short texts and at most <see cref="QuickPairs"/> training pairs: a run of seconds, for tests.</summary>
    public bool Quick { get; init; }

    public const int QuickPairs = 2000, QuickWidth = 32, QuickSourceLength = 32, QuickSummaryLength = 12;

    private static readonly SummarizationOptions Defaults = new();

    /// <summary>Their command-line form; those of <see cref="SharedTaskOptions"/> are shared with other tasks.</summary>
    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        TaskOption.Integer("--source-length", "source_length", "words of a long description the summariser reads", Defaults.SourceLength),
        TaskOption.Integer("--summary-length", "summary_length", "words of a summary at most", Defaults.SummaryLength),
        TaskOption.Integer("--min-summary-length", "min_summary_length", "words of a summary at least (decoding does not stop before)", Defaults.MinSummaryLength),
        SharedTaskOptions.MinCount(Defaults.MinCount),
        SharedTaskOptions.VocabSize(Defaults.VocabSize),
        SharedTaskOptions.Dim(Defaults.Dim),
        SharedTaskOptions.Layers(Defaults.Layers),
        SharedTaskOptions.Beam(Defaults.Beam),
        SharedTaskOptions.LengthPenalty(Defaults.LengthPenalty),
        TaskOption.Flag("--copy", "copy", "summarisation: a pointer-generator that copies source words, unknown words included"),
        SharedTaskOptions.TestFraction(Defaults.TestFraction),
        SharedTaskOptions.Quick(),
    ];

    public int EffectiveSourceLength => Quick ? Math.Min(SourceLength, QuickSourceLength) : SourceLength;

    public int EffectiveSummaryLength => Quick ? Math.Min(SummaryLength, QuickSummaryLength) : SummaryLength;

    public int EffectiveDim => Quick ? QuickWidth : Dim;

    public int EffectiveLayers => Quick ? 1 : Layers;

    /// <summary>Checks every value; the message names the option.</summary>
    public void Validate()
    {
        if (SourceLength < 1) throw new ArgumentException($"--source-length must be at least 1, got {SourceLength}");
        if (SummaryLength < 1) throw new ArgumentException($"--summary-length must be at least 1, got {SummaryLength}");
        if (MinSummaryLength < 0) throw new ArgumentException($"--min-summary-length must be at least 0, got {MinSummaryLength}");
        if (MinCount < 1) throw new ArgumentException($"--min-count must be at least 1, got {MinCount}");
        if (VocabSize < 1) throw new ArgumentException($"--vocab-size must be at least 1, got {VocabSize}");
        if (Dim < 4 || Dim % 4 != 0) throw new ArgumentException($"--dim must be a positive multiple of 4 (the 4 attention heads), got {Dim}");
        if (Layers < 1) throw new ArgumentException($"--layers must be at least 1, got {Layers}");
        SequenceTasks.Validate(Beam, LengthPenalty);
        if (!(TestFraction > 0 && TestFraction < 1)) throw new ArgumentException($"--test-fraction must be in (0, 1), got {TestFraction}");
    }
}
