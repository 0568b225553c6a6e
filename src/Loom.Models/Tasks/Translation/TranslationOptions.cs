namespace Loom.Models;

/// <summary>The options of <see cref="TranslationTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record TranslationOptions
{
    /// <summary>The target side when --data is the source side: a second SWORD module folder, or a text file aligned line by line.</summary>
    public string? TargetData { get; init; }

    /// <summary>Ids of the BPE vocabulary shared by both languages (learnt on the training split), special tokens and bytes included.</summary>
    public int VocabSize { get; init; } = 8000;

    /// <summary>Training pairs with a side longer than this many tokens are left out (test pairs are all kept).</summary>
    public int MaxLength { get; init; } = 96;

    /// <summary>Model width (embeddings, attention, LSTM states).</summary>
    public int Dim { get; init; } = 256;

    /// <summary>Encoder layers and decoder layers (each).</summary>
    public int Layers { get; init; } = 3;

    public int Heads { get; init; } = 4;

    /// <summary>Hypotheses kept by beam search; 1: greedy only.</summary>
    public int Beam { get; init; } = 4;

    /// <summary>α of GNMT's length penalty ((5 + |y|) / 6)^α that divides a hypothesis's log-probability; 0: raw log-probability.</summary>
    public double LengthPenalty { get; init; } = 0.6;

    /// <summary>Books (or groups of a TSV) held out as the test split, by name; null: every 8th book from the 5th, or the last tenth of the file.</summary>
    public string[]? TestBooks { get; init; }

    /// <summary>Test sentences translated for BLEU; 0: all (the held-out books of the Bible hold ~4,000 verses).</summary>
    public int TestLimit { get; init; }

    /// <summary>A tiny model, vocabulary and slice of the data: a run of seconds, for tests and trying things out.</summary>
    public bool Quick { get; init; }

    public const int QuickVocab = 400, QuickDim = 32, QuickPairs = 600, QuickTest = 60, QuickMaxLength = 48;

    private static readonly TranslationOptions Defaults = new();

    /// <summary>Their command-line form; those of <see cref="SharedTaskOptions"/> are shared with other tasks.</summary>
    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        TaskOption.Text("--target-data", "target_data", "translation: the target side (a SWORD module folder or a line-aligned text file) when --data is the source side"),
        SharedTaskOptions.VocabSize(Defaults.VocabSize),
        SharedTaskOptions.MaxLength(Defaults.MaxLength),
        SharedTaskOptions.Dim(Defaults.Dim),
        SharedTaskOptions.Layers(Defaults.Layers),
        TaskOption.Integer("--heads", "heads", "translation: attention heads", Defaults.Heads),
        SharedTaskOptions.Beam(Defaults.Beam),
        SharedTaskOptions.LengthPenalty(Defaults.LengthPenalty),
        TaskOption.List("--test-books", "test_books", "translation: books (or TSV groups) held out for testing, such as Deut,Acts"),
        TaskOption.Integer("--test-limit", "test_limit", "translation: test sentences translated for BLEU (0: all)", Defaults.TestLimit),
        SharedTaskOptions.Quick(),
    ];

    public int EffectiveVocab => Quick ? Math.Min(VocabSize, QuickVocab) : VocabSize;

    public int EffectiveDim => Quick ? QuickDim : Dim;

    public int EffectiveLayers => Quick ? 1 : Layers;

    public int EffectiveMaxLength => Quick ? Math.Min(MaxLength, QuickMaxLength) : MaxLength;

    /// <summary>Checks every value; the message names the option.</summary>
    public void Validate()
    {
        if (VocabSize < BpeTrainer.MinVocabSize) throw new ArgumentException($"--vocab-size must be at least {BpeTrainer.MinVocabSize} (4 special tokens and 256 bytes), got {VocabSize}");
        if (MaxLength < 2) throw new ArgumentException($"--max-length must be at least 2, got {MaxLength}");
        if (Dim < 4 || Dim % 2 != 0) throw new ArgumentException($"--dim must be an even number of at least 4, got {Dim}");
        if (Layers < 1) throw new ArgumentException($"--layers must be at least 1, got {Layers}");
        if (Heads < 1 || Dim % Heads != 0) throw new ArgumentException($"--heads must divide --dim {Dim}, got {Heads}");
        if (Quick && QuickDim % Heads != 0) throw new ArgumentException($"--quick models are {QuickDim} wide: --heads must divide it, got {Heads}");
        SequenceTasks.Validate(Beam, LengthPenalty);
        if (TestLimit < 0) throw new ArgumentException($"--test-limit must be 0 (all) or more, got {TestLimit}");
    }
}
