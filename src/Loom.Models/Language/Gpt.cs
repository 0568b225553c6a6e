using Loom.Memory;
using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// A GPT-style decoder-only language model, GPT-2's architecture: token embedding (wte) plus learned position embedding
/// (wpe) — or rotary positions in the attention — then dropout, pre-norm blocks (<see cref="GptBlock"/>) of causal
/// self-attention and a GELU MLP, a final LayerNorm (ln_f), and logits from the token embedding transposed (tied) or
/// from a separate lm_head. Parameter names are GPT-2's (wte, wpe, h.0.ln_1, h.0.attn.c_attn…), so a Hugging Face
/// GPT-2 checkpoint loads with <see cref="Gpt2Checkpoint"/>.
/// </summary>
/// <remarks>
/// Initialisation as GPT-2's: every weight N(0, 0.02), biases zero, LayerNorms one and zero, and the projections that
/// write into the residual stream (attn.c_proj, mlp.c_proj) N(0, 0.02/√(2·layers)), so the stream's variance does not
/// grow with depth. Shapes: token ids [B, T] (Int64) → logits [B, T, V].
/// </remarks>
public sealed class Gpt : Module<Tensor, Tensor>, IOnnxExportable
{
    private const double PaddingScore = -1e9; // finite: a row of padding only gets uniform weights, not NaN
    private readonly Tensor? _rotaryCos;
    private readonly Tensor? _rotarySin;

    public Gpt(GptConfig config)
    {
        config.Validate();
        Config = config;
        Wte = RegisterModule("wte", new Embedding(config.Vocab, config.Dim, dtype: config.DType));
        if (config.Positions == GptPositions.Learned) Wpe = RegisterModule("wpe", new Embedding(config.Context, config.Dim, dtype: config.DType));
        else (_rotaryCos, _rotarySin) = RotaryAngles.Tables(config.Context, config.HeadDim, config.DType);
        Drop = RegisterModule("drop", new Dropout(config.Dropout));
        // Shared: the one block sits in every slot, so it is one module (h.0 in the state dict) whose parameters
        // collect the gradients of every use.
        var shared = config.ShareLayers ? new GptBlock(config) : null;
        H = RegisterModule("h", new ModuleList<GptBlock>(Enumerable.Range(0, config.Layers).Select(_ => shared ?? new GptBlock(config))));
        LnF = RegisterModule("ln_f", new LayerNorm(config.Dim, dtype: config.DType));
        if (!config.TiedEmbeddings) LmHead = RegisterModule("lm_head", new Linear(config.Dim, config.Vocab, bias: false, dtype: config.DType));
        Initialize();
    }

    public GptConfig Config { get; }
    public Embedding Wte { get; }
    public Embedding? Wpe { get; }
    public Dropout Drop { get; }
    public ModuleList<GptBlock> H { get; }
    public LayerNorm LnF { get; }
    public Linear? LmHead { get; }

    private void Initialize()
    {
        using var noGrad = new NoGrad();
        double residual = 0.02 / Math.Sqrt(2 * Config.Layers);
        foreach (var (name, module) in NamedModules())
        {
            switch (module)
            {
                case Linear linear:
                    Init.Normal(linear.Weight, 0, name.EndsWith(".c_proj", StringComparison.Ordinal) ? residual : 0.02);
                    if (linear.Bias is not null) Init.Zeros(linear.Bias);
                    break;
                case Embedding embedding:
                    Init.Normal(embedding.Weight, 0, 0.02);
                    break;
            }
        }
    }

    protected override Tensor ForwardCore(Tensor input) => Forward(input, null);

    /// <summary>
    /// Logits for every position (or only the last with <paramref name="lastOnly"/>, all that decoding needs); with a
    /// cache, <paramref name="ids"/> continue the cached sequence.
    /// </summary>
    public Tensor Forward(Tensor ids, GptCache? cache, bool lastOnly = false)
    {
        var h = Hidden(ids, cache, lastOnly);
        return LmHead is null ? Functional.Linear(h, Wte.Weight) : LmHead.Forward(h);
    }

    /// <summary>The final layer norm's output [B, T, Dim] (or [B, 1, Dim] with <paramref name="lastOnly"/>): what the head turns into logits.</summary>
    private Tensor Hidden(Tensor ids, GptCache? cache, bool lastOnly)
    {
        if (ids.Rank != 2) throw new ArgumentException($"gpt: token ids must be [B, T], got shape {ids.Shape}");
        int b = ids.Shape[0], t = ids.Shape[1], start = cache?.Length ?? 0;
        if (start + t > Config.Context)
            throw new ArgumentException($"gpt: {start + t} positions exceed the context length {Config.Context}");
        var positions = Positions(b, t, start, cache?.Padding);
        var x = Wte.Forward(ids);
        if (Wpe is not null) x = x.Add(Wpe.Forward(positions));
        var context = new GptContext(Rotary(positions), KeyPadding(cache?.Padding, start + t));
        x = Drop.Forward(x);
        for (int i = 0; i < H.Count; i++) x = H[i].Forward(x, context, cache?.Layers[i]);
        if (lastOnly && t > 1) x = x.Narrow(1, t - 1, 1);
        return LnF.Forward(x);
    }

    /// <summary>
    /// The mean cross-entropy of the next-token predictions for <paramref name="ids"/> [B, T] against
    /// <paramref name="targets"/> [B, T] (targets equal to <paramref name="ignoreIndex"/> left out): the value of
    /// <c>cross_entropy(Forward(ids).flatten(0, 1), targets.flatten())</c>, with the tied head and the loss as one
    /// op that never keeps the [B·T, V] logits beside their gradient (<see cref="Functional.LinearCrossEntropy"/>).
    /// </summary>
    public Tensor Loss(Tensor ids, Tensor targets, long ignoreIndex = -100)
    {
        if (LmHead is not null)
        {
            var logits = Forward(ids, null);
            return Functional.CrossEntropy(logits.Reshape(-1, logits.Shape[^1]), targets.Reshape(-1), ignoreIndex: ignoreIndex);
        }
        var h = Hidden(ids, null, lastOnly: false);
        return Functional.LinearCrossEntropy(h, Wte.Weight, targets, ignoreIndex);
    }

    /// <summary>
    /// The whole-sequence forward pass (no cache, learned positions): ids [batch, sequence] → logits [batch, sequence, V],
    /// positions and the causal mask built from the sequence length at run time.
    /// </summary>
    public string ExportOnnx(OnnxExportContext onnx, string ids)
    {
        if (Wpe is null)
            throw new OnnxException($"export: module '{(onnx.Scope == "" ? "(root)" : onnx.Scope)}' (Gpt with rotary positions) has no ONNX mapping in Loom's exporter");
        var x = onnx.Op("Add", [onnx.Module(Wte, ids), onnx.Module(Wpe, onnx.Arange(onnx.Dim(ids, 1)))]);
        foreach (var block in H)
        {
            OnnxExportContext inBlock = onnx.Within(block), inAttention = onnx.Within(block.Attn), inMlp = onnx.Within(block.Mlp);
            var qkv = onnx.Module(block.Attn.CAttn, onnx.Module(block.Ln1, x));
            var attention = onnx.Module(block.Attn.CProj, inAttention.SelfAttention(qkv, block.Attn.InnerDim, block.Attn.NumHeads, isCausal: true, keyPadding: null));
            x = inBlock.Op("Add", [x, attention]);
            var hidden = inMlp.Gelu(onnx.Module(block.Mlp.CFc, onnx.Module(block.Ln2, x)), Config.GeluTanh);
            x = inBlock.Op("Add", [x, onnx.Module(block.Mlp.CProj, hidden)]);
        }
        var h = onnx.Module(LnF, x);
        return LmHead is null ? onnx.Op("MatMul", [h, onnx.Op("Transpose", [onnx.Parameter(Wte.Weight)])]) : onnx.Module(LmHead, h);
    }

    // [T] positions start..start+T−1, or [B, T] when rows are left-padded: a row's first real token is position 0.
    private static Tensor Positions(int b, int t, int start, int[]? padding)
    {
        if (padding is null) return Tensor.Arange(start, start + t, 1, DType.Int64);
        var p = new long[b * t];
        for (int r = 0; r < b; r++)
            for (int j = 0; j < t; j++) p[r * t + j] = Math.Max(0, start + j - padding[r]);
        return Tensor.FromArray(p, b, t);
    }

    private RotaryAngles? Rotary(Tensor positions)
    {
        if (_rotaryCos is null || _rotarySin is null) return null;
        Tensor cos = Functional.Embedding(positions, _rotaryCos), sin = Functional.Embedding(positions, _rotarySin);
        return positions.Rank == 1 ? new RotaryAngles(cos, sin) : new RotaryAngles(cos.Unsqueeze(1), sin.Unsqueeze(1));
    }

    private Tensor? KeyPadding(int[]? padding, int keys)
    {
        if (padding is null) return null;
        var mask = new double[padding.Length * keys];
        for (int r = 0; r < padding.Length; r++)
            mask.AsSpan(r * keys, Math.Min(padding[r], keys)).Fill(PaddingScore);
        return Tensor.FromArray(mask, padding.Length, 1, 1, keys).To(Config.DType);
    }

    /// <summary>Greedy decoding of <paramref name="tokens"/> new tokens after <paramref name="prompt"/> [B, T], with or without a key/value cache.</summary>
    public Tensor Generate(Tensor prompt, int tokens, bool useCache = true)
    {
        using var noGrad = new NoGrad();
        var ids = prompt;
        var cache = useCache ? new GptCache(Config.Layers) : null;
        var logits = Forward(ids, cache, lastOnly: true);
        for (int i = 0; i < tokens; i++)
        {
            var next = logits.Select(1, logits.Shape[1] - 1).ArgMax(-1, keepDim: true); // [B, 1]
            ids = Tensor.Cat([ids, next], 1);
            if (i == tokens - 1) break;
            logits = useCache ? Forward(next, cache, lastOnly: true) : Forward(ids, null, lastOnly: true);
        }
        return ids;
    }

    /// <summary>
    /// Continues each prompt by up to <see cref="GenerationOptions.MaxTokens"/> tokens, all prompts as one batch
    /// (shorter ones left-padded), with the key/value cache; a row stops at <see cref="GenerationOptions.StopToken"/>.
    /// When a sequence reaches the context length, decoding goes on from its last half (the cache is rebuilt once).
    /// </summary>
    /// <param name="onToken">Called after every step with the step number and each row's new token (−1 for a row that has stopped).</param>
    /// <returns>Each prompt's new tokens (the stop token not included).</returns>
    public int[][] Generate(IReadOnlyList<int[]> prompts, GenerationOptions options, Action<int, int[]>? onToken = null)
    {
        options.Validate();
        if (prompts.Count == 0) throw new ArgumentException("generate: no prompts");
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("generate: a prompt has no tokens (start it with the tokenizer's bos token)");
        foreach (int id in prompts.SelectMany(p => p))
            if (id < 0 || id >= Config.Vocab) throw new ArgumentException($"generate: token id {id} is outside the model's vocabulary of {Config.Vocab}");
        using var noGrad = new NoGrad();
        bool wasTraining = Training;
        Eval();
        try
        {
            int b = prompts.Count;
            var rows = prompts.Select(p => p.Length > Config.Context ? p[^Config.Context..] : p).ToArray();
            var history = rows.Select(r => new List<int>(r)).ToArray();
            var generated = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
            var stopped = new bool[b];
            var sampler = new Sampler(options);
            var (cache, logits) = Prefill(rows);
            var next = new int[b];
            for (int step = 0; step < options.MaxTokens; step++)
            {
                for (int r = 0; r < b; r++)
                {
                    if (stopped[r]) { next[r] = -1; continue; }
                    next[r] = sampler.Pick(logits.AsSpan(r * Config.Vocab, Config.Vocab), history[r]);
                    if (next[r] == options.StopToken) { stopped[r] = true; continue; }
                    generated[r].Add(next[r]);
                    history[r].Add(next[r]);
                }
                onToken?.Invoke(step, (int[])next.Clone());
                if (stopped.All(s => s) || step == options.MaxTokens - 1) break;
                var feed = next.Select(id => (long)Math.Max(id, 0)).ToArray();
                if (cache.Length == Config.Context)
                    (cache, logits) = Prefill(history.Select(h => h.Count > Config.Context / 2 ? h.ToArray()[^(Config.Context / 2)..] : h.ToArray()).ToArray());
                else logits = LastLogits(() => Forward(Tensor.FromArray(feed, b, 1), cache, lastOnly: true));
            }
            return generated.Select(g => g.ToArray()).ToArray();
        }
        finally
        {
            Train(wasTraining);
        }
    }

    // One decoding step inside its own memory scope, so that the step's activations return to the buffer pool instead
    // of the garbage collector (the cache's buffers are persistent); the last position's logits come out as [B·V] floats.
    private static float[] LastLogits(Func<Tensor> forward)
    {
        using var scope = new MemoryScope();
        return forward().To(DType.Float32).ToArray<float>();
    }

    // Runs the (left-padded) prompts through the model into a fresh cache; returns the last position's logits [B·V].
    private (GptCache Cache, float[] Logits) Prefill(int[][] rows)
    {
        int b = rows.Length, t = rows.Max(r => r.Length);
        var padding = rows.Select(r => t - r.Length).ToArray();
        var ids = new long[b * t];
        for (int r = 0; r < b; r++)
            for (int j = 0; j < rows[r].Length; j++) ids[r * t + padding[r] + j] = rows[r][j];
        var cache = new GptCache(Config.Layers, padding.Any(p => p > 0) ? padding : null);
        return (cache, LastLogits(() => Forward(Tensor.FromArray(ids, b, t), cache, lastOnly: true)));
    }
}
