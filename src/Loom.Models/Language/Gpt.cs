using Loom.Autograd;
using Loom.Nn;

namespace Loom.Models;

/// <summary>
/// A GPT-style decoder-only language model: token and learned position embeddings, pre-norm blocks with causal
/// self-attention and a GELU MLP, a final LayerNorm, and output logits tied to the token embedding (logits = h·Eᵀ).
/// Same shapes and names as the PyTorch peer in ../shared/peers/torch_bench.py.
/// </summary>
/// <remarks>Shapes: token ids [B, T] (Int64) → logits [B, T, V].</remarks>
public sealed class Gpt : Module<Tensor, Tensor>
{
    public Gpt(GptConfig config)
    {
        config.Validate();
        Config = config;
        Tok = RegisterModule("tok", new Embedding(config.Vocab, config.Dim));
        Pos = RegisterModule("pos", new Embedding(config.Context, config.Dim));
        Blocks = RegisterModule("blocks", new ModuleList<GptBlock>(Enumerable.Range(0, config.Layers).Select(_ => new GptBlock(config.Dim, config.Heads, config.Dropout))));
        Lnf = RegisterModule("lnf", new LayerNorm(config.Dim));
    }

    public GptConfig Config { get; }
    public Embedding Tok { get; }
    public Embedding Pos { get; }
    public ModuleList<GptBlock> Blocks { get; }
    public LayerNorm Lnf { get; }

    protected override Tensor ForwardCore(Tensor input) => Forward(input, null);

    /// <summary>Logits for every position; with a cache, <paramref name="ids"/> continue the cached sequence.</summary>
    public Tensor Forward(Tensor ids, GptCache? cache)
    {
        if (ids.Rank != 2) throw new ArgumentException($"gpt: token ids must be [B, T], got shape {ids.Shape}");
        int t = ids.Shape[1], start = cache?.Length ?? 0;
        if (start + t > Config.Context)
            throw new ArgumentException($"gpt: {start + t} positions exceed the context length {Config.Context}");
        var positions = Tensor.Arange(start, start + t, 1, DType.Int64);
        var x = Tok.Forward(ids).Add(Pos.Forward(positions));
        for (int i = 0; i < Blocks.Count; i++) x = Blocks[i].Forward(x, cache?.Layers[i]);
        return Lnf.Forward(x).Matmul(Tok.Weight.Transpose(0, 1));
    }

    /// <summary>Greedy decoding of <paramref name="tokens"/> new tokens after <paramref name="prompt"/> [B, T], with or without a key/value cache.</summary>
    public Tensor Generate(Tensor prompt, int tokens, bool useCache = true)
    {
        using var noGrad = new NoGrad();
        var ids = prompt;
        var cache = useCache ? new GptCache(Config.Layers) : null;
        var logits = Forward(ids, cache);
        for (int i = 0; i < tokens; i++)
        {
            var next = logits.Select(1, logits.Shape[1] - 1).ArgMax(-1, keepDim: true); // [B, 1]
            ids = Tensor.Cat([ids, next], 1);
            if (i == tokens - 1) break;
            logits = useCache ? Forward(next, cache) : Forward(ids, null);
        }
        return ids;
    }
}
