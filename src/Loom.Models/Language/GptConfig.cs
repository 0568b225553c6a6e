namespace Loom.Models;

/// <summary>How a <see cref="Gpt"/> tells positions apart.</summary>
public enum GptPositions
{
    /// <summary>A learned embedding per position (GPT-2's wpe), added to the token embedding.</summary>
    Learned,

    /// <summary>Rotary embeddings (RoFormer, GPT-NeoX's half-split layout) applied to queries and keys: no position parameters.</summary>
    Rotary,
}

/// <summary>
/// The sizes and choices of a <see cref="Gpt"/>. The defaults are the benchmark's model (V 4096, 4 layers, d 256, 4
/// heads, context 128); <see cref="Preset"/> gives the named ones.
/// </summary>
/// <param name="Vocab">Token ids run from 0 to Vocab − 1.</param>
/// <param name="Dim">Width of the residual stream (GPT-2's n_embd).</param>
/// <param name="Layers">Decoder blocks.</param>
/// <param name="Heads">Attention heads; must divide <paramref name="Dim"/>.</param>
/// <param name="Context">Longest sequence (GPT-2's n_positions).</param>
/// <param name="Dropout">On the embeddings, the attention weights and each block's residual branches (training only).</param>
/// <param name="Positions">Learned position embeddings or rotary ones.</param>
/// <param name="TiedEmbeddings">Logits use the token embedding transposed (GPT-2) rather than a separate lm_head.</param>
/// <param name="GeluTanh">GELU's tanh approximation, which GPT-2 was trained with ("gelu_new"); false for the exact erf form.</param>
/// <param name="DType">Float32, or Float64 for gradient checks.</param>
/// <param name="ShareLayers">One block's parameters used by every layer (ALBERT's cross-layer sharing): the blocks'
/// parameters shrink by a factor of Layers, the compute stays.</param>
public sealed record GptConfig(int Vocab = 4096, int Dim = 256, int Layers = 4, int Heads = 4, int Context = 128, double Dropout = 0,
    GptPositions Positions = GptPositions.Learned, bool TiedEmbeddings = true, bool GeluTanh = true, DType DType = DType.Float32, bool ShareLayers = false)
{
    /// <summary>The presets `--model` names, each with one line of description.</summary>
    public static IReadOnlyDictionary<string, string> Presets { get; } = new Dictionary<string, string>
    {
        ["gpt-tiny"] = "GPT for tests: 2 layers, width 64, 4 heads, context 64",
        ["gpt-small"] = "GPT of about 10 M parameters (besides embeddings): 6 layers, width 384, 6 heads, context 256",
        ["gpt2"] = "GPT-2 124M's shapes: 12 layers, width 768, 12 heads, context 1024 (vocabulary 50,257 with the gpt2 tokenizer)",
    };

    /// <summary>The preset <paramref name="name"/> for a vocabulary of <paramref name="vocab"/> ids.</summary>
    public static GptConfig Preset(string name, int vocab, double dropout = 0, GptPositions positions = GptPositions.Learned) => name switch
    {
        "gpt-tiny" => new(vocab, Dim: 64, Layers: 2, Heads: 4, Context: 64, dropout, positions),
        "gpt-small" => new(vocab, Dim: 384, Layers: 6, Heads: 6, Context: 256, dropout, positions),
        "gpt2" => new(vocab, Dim: 768, Layers: 12, Heads: 12, Context: 1024, dropout, positions),
        _ => throw new ArgumentException($"unknown GPT preset '{name}'; choose one of {string.Join(", ", Presets.Keys)}"),
    };

    public int HeadDim => Dim / Heads;

    public void Validate()
    {
        if (Vocab <= 0 || Dim <= 0 || Layers <= 0 || Heads <= 0 || Context <= 0)
            throw new ArgumentException($"GPT sizes must be positive: vocab {Vocab}, width {Dim}, layers {Layers}, heads {Heads}, context {Context}");
        if (Dim % Heads != 0) throw new ArgumentException($"GPT: width {Dim} is not divisible by {Heads} heads");
        if (Positions == GptPositions.Rotary && HeadDim % 2 != 0) throw new ArgumentException($"GPT: rotary positions need an even head size, got {HeadDim}");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentException($"GPT: dropout must be in [0, 1), got {Dropout}");
        if (!DType.IsFloatingPoint()) throw new ArgumentException($"GPT: parameters must be floating point, got {DType.Name()}");
    }
}
