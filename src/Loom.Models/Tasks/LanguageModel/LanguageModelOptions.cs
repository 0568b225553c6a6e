using System.Text.Json.Nodes;

namespace Loom.Models;

/// <summary>The options of <see cref="LanguageModelTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record LanguageModelOptions
{
    /// <summary>char, bpe (trained on the training text) or gpt2; null: gpt2 for the gpt2 model, else bpe.</summary>
    public string? Tokenizer { get; init; }

    /// <summary>Ids of a trained BPE vocabulary, special tokens and bytes included.</summary>
    public int VocabSize { get; init; } = 4096;

    /// <summary>Tokens per training window; null: the model's context length.</summary>
    public int? Context { get; init; }

    /// <summary>learned or rotary.</summary>
    public string Positions { get; init; } = "learned";

    /// <summary>The last fraction of the text, held out as the test split.</summary>
    public double TestFraction { get; init; } = 0.1;

    /// <summary>For CSV data: the column holding the text.</summary>
    public string? TextColumn { get; init; }

    /// <summary>A Hugging Face GPT-2 model.safetensors to start from (fine-tuning) instead of a fresh initialisation.</summary>
    public string? Weights { get; init; }

    private static readonly LanguageModelOptions Defaults = new();

    /// <summary>Their command-line form; those of <see cref="SharedTaskOptions"/> are shared with other tasks.</summary>
    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        TaskOption.Text("--tokenizer", "tokenizer", "char, bpe (trained on the training text) or gpt2", "bpe (gpt2 for --model gpt2)"),
        SharedTaskOptions.VocabSize(Defaults.VocabSize),
        new("--context", "context", "tokens per training window", "the model's context length", value =>
            int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
                ? JsonValue.Create(n)
                : throw new ArgumentException($"--context expects a whole number, got '{value}'")),
        TaskOption.Text("--positions", "positions", "learned or rotary position embeddings", Defaults.Positions),
        SharedTaskOptions.TestFraction(Defaults.TestFraction),
        SharedTaskOptions.TextColumn(),
        TaskOption.Text("--weights", "weights", "a Hugging Face GPT-2 model.safetensors to fine-tune (with --model gpt2)"),
        SharedTaskOptions.ShareLayers(),
        TaskOption.Flag("--untie-embeddings", "untie_embeddings", "GPT: a separate output layer (lm_head) instead of the token embedding transposed"),
    ];

    /// <summary>One block's parameters reused by every layer (ALBERT's cross-layer sharing).</summary>
    public bool ShareLayers { get; init; }

    /// <summary>A separate lm_head rather than the token embedding transposed (which GPT-2 and the default tie).</summary>
    public bool UntieEmbeddings { get; init; }

    public GptPositions PositionKind => Positions == "rotary" ? GptPositions.Rotary : GptPositions.Learned;

    /// <summary>Checks every value; the message names the option.</summary>
    public void Validate()
    {
        if (Tokenizer is not null && !Data.Tokenizer.Kinds.Contains(Tokenizer))
            throw new ArgumentException($"--tokenizer must be one of {string.Join(", ", Data.Tokenizer.Kinds)}; got '{Tokenizer}'");
        if (VocabSize < BpeTrainer.MinVocabSize) throw new ArgumentException($"--vocab-size must be at least {BpeTrainer.MinVocabSize} (4 special tokens and 256 bytes), got {VocabSize}");
        if (Context is < 1) throw new ArgumentException($"--context must be at least 1, got {Context}");
        if (Positions is not ("learned" or "rotary")) throw new ArgumentException($"--positions must be learned or rotary, got '{Positions}'");
        if (Weights is not null && (ShareLayers || UntieEmbeddings))
            throw new ArgumentException("--weights loads GPT-2's own layout: --share-layers and --untie-embeddings do not apply");
        if (!(TestFraction > 0 && TestFraction < 0.5)) throw new ArgumentException($"--test-fraction must be in (0, 0.5), got {TestFraction}");
    }
}
