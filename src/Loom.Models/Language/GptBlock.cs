namespace Loom.Models;

/// <summary>
/// One pre-norm decoder block, as GPT-2's: x + attn(ln_1(x)), then x + mlp(ln_2(x)). Names follow GPT-2's state dict
/// (ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj), so Hugging Face checkpoints map one to one.
/// </summary>
/// <remarks>Shapes: x [B, T, C] → [B, T, C].</remarks>
public sealed class GptBlock : Module<Tensor, Tensor>
{
    public GptBlock(GptConfig config)
    {
        Ln1 = RegisterModule("ln_1", new LayerNorm(config.Dim, dtype: config.DType));
        Attn = RegisterModule("attn", new GptAttention(config));
        Ln2 = RegisterModule("ln_2", new LayerNorm(config.Dim, dtype: config.DType));
        Mlp = RegisterModule("mlp", new GptMlp(config));
    }

    public LayerNorm Ln1 { get; }
    public GptAttention Attn { get; private set; }
    public LayerNorm Ln2 { get; }
    public GptMlp Mlp { get; }

    protected override Tensor ForwardCore(Tensor input) => Forward(input, GptContext.Whole);

    /// <summary>Accepts an attention layer with fewer heads in place of <see cref="Attn"/> (head pruning); refuses anything else.</summary>
    protected override void OnChildReplacing(string name, Module current, Module replacement)
    {
        if (name == "attn" && replacement is GptAttention attention) Attn = attention;
        else base.OnChildReplacing(name, current, replacement);
    }

    /// <summary>The block's output; <paramref name="context"/> carries positions, padding and the layer caches.</summary>
    public Tensor Forward(Tensor x, GptContext context, KeyValueCache.Entry? cache = null)
    {
        x = x.Add(Attn.Forward(Ln1.Forward(x), context, cache));
        return x.Add(Mlp.Forward(Ln2.Forward(x)));
    }
}

/// <summary>
/// Causal multi-head self-attention: one projection to q, k, v (c_attn), rotary positions when configured, then
/// <see cref="Functional.ScaledDotProductAttention"/> and the output projection (c_proj) with residual dropout. A whole
/// sequence without rotary positions, cache or attention dropout (training a GPT-2-style model, scoring text) takes
/// the fused <see cref="Functional.SelfAttention"/> instead, which gives the same values without the copies.
/// </summary>
public sealed class GptAttention : Module<Tensor, Tensor>, IAttentionLayer, IHeadPrunable
{
    private readonly GptConfig _config;
    private readonly AttentionHooks _attentionHooks = new();

    public GptAttention(GptConfig config) : this(config, config.Heads) { }

    /// <summary>
    /// <paramref name="heads"/> heads of the config's head size: fewer than the config's after head pruning, so c_attn
    /// has 3·heads·HeadDim outputs and c_proj heads·HeadDim inputs.
    /// </summary>
    public GptAttention(GptConfig config, int heads)
    {
        if (heads < 1 || heads > config.Heads) throw new ArgumentException($"GPT attention: {heads} heads; the config has {config.Heads}");
        (_config, NumHeads) = (config, heads);
        CAttn = RegisterModule("c_attn", new Linear(config.Dim, 3 * InnerDim, dtype: config.DType));
        CProj = RegisterModule("c_proj", new Linear(InnerDim, config.Dim, dtype: config.DType));
        ResidDropout = RegisterModule("resid_dropout", new Dropout(config.Dropout));
    }

    public int NumHeads { get; }

    public int HeadDim => _config.HeadDim;

    /// <summary>NumHeads · HeadDim: the config's width unless heads were pruned.</summary>
    public int InnerDim => NumHeads * HeadDim;

    public Linear CAttn { get; }
    public Linear CProj { get; }
    public Dropout ResidDropout { get; }

    protected override Tensor ForwardCore(Tensor input) => Forward(input, GptContext.Whole, null);

    public HookHandle RegisterAttentionHook(Action<Module, Tensor> hook) => _attentionHooks.Register(hook);

    public Tensor Forward(Tensor x, GptContext context, KeyValueCache.Entry? cache)
    {
        int b = x.Shape[0], t = x.Shape[1], c = InnerDim, heads = NumHeads, hd = HeadDim;
        bool dropout = Training && _config.Dropout > 0;
        Tensor Heads(Tensor z) => z.Reshape(b, t, heads, hd).Transpose(1, 2); // [B, H, T, hd]
        if (cache is null && context.Rotary is null && context.KeyMask(t) is null && !dropout)
        {
            // The fused kernel reads the heads in place from c_attn's output and writes them where c_proj reads them;
            // it never forms the probabilities, so a hook gets them computed beside it from the same c_attn output.
            var fused = CAttn.Forward(x);
            if (_attentionHooks.Any)
            {
                var parts = fused.Split(c, axis: 2);
                _attentionHooks.Run(this, Attention.Weights(Heads(parts[0]), Heads(parts[1]), isCausal: true));
            }
            return ResidDropout.Forward(CProj.Forward(Functional.SelfAttention(fused, heads)));
        }
        var qkv = CAttn.Forward(x).Split(c, axis: 2);
        Tensor q = Heads(qkv[0]), k = Heads(qkv[1]), v = Heads(qkv[2]);
        if (context.Rotary is { } rotary) (q, k) = (rotary.Apply(q), rotary.Apply(k));
        if (cache is not null) (k, v) = cache.Append(k, v);
        if (_attentionHooks.Any) _attentionHooks.Run(this, Attention.Weights(q, k, context.KeyMask(k.Shape[2]), isCausal: true));
        var y = Functional.ScaledDotProductAttention(q, k, v, context.KeyMask(k.Shape[2]), isCausal: true,
            dropoutP: dropout ? _config.Dropout : 0);
        return ResidDropout.Forward(CProj.Forward(y.Transpose(1, 2).Reshape(b, t, c)));
    }

    Linear IHeadPrunable.OutputProjection => CProj;

    /// <summary>A copy holding only <paramref name="heads"/>: their rows of c_attn (queries, keys and values) and columns of c_proj.</summary>
    public GptAttention KeepHeads(IReadOnlyList<int> heads)
    {
        var stacked = AttentionHeads.Rows(heads, NumHeads, HeadDim, 3, "GPT attention");
        var columns = AttentionHeads.Rows(heads, NumHeads, HeadDim, 1, "GPT attention");
        var copy = new GptAttention(_config, heads.Count);
        using (new Autograd.NoGrad())
        {
            copy.CAttn.Weight.CopyFrom(CAttn.Weight.IndexSelect(0, stacked));
            copy.CAttn.Bias!.CopyFrom(CAttn.Bias!.IndexSelect(0, stacked));
            copy.CProj.Weight.CopyFrom(CProj.Weight.IndexSelect(1, columns));
            copy.CProj.Bias!.CopyFrom(CProj.Bias!);
        }
        copy.Train(Training);
        return copy;
    }

    Module IHeadPrunable.KeepHeads(IReadOnlyList<int> heads) => KeepHeads(heads);
}

/// <summary>The block's feed-forward part: c_fc to 4·C, GELU, c_proj back to C, dropout.</summary>
public sealed class GptMlp : Module<Tensor, Tensor>
{
    private readonly bool _tanh;

    public GptMlp(GptConfig config)
    {
        _tanh = config.GeluTanh;
        CFc = RegisterModule("c_fc", new Linear(config.Dim, 4 * config.Dim, dtype: config.DType));
        CProj = RegisterModule("c_proj", new Linear(4 * config.Dim, config.Dim, dtype: config.DType));
        Dropout = RegisterModule("dropout", new Dropout(config.Dropout));
    }

    public Linear CFc { get; }
    public Linear CProj { get; }
    public Dropout Dropout { get; }

    // The GELU runs in c_fc's GEMM epilogue, while its output is still in cache.
    protected override Tensor ForwardCore(Tensor input) =>
        Dropout.Forward(CProj.Forward(CFc.Forward(input, _tanh ? Activation.GeluTanh : Activation.Gelu)));
}
