namespace Loom.Nn;

/// <summary>
/// One transformer decoder layer, as <c>torch.nn.TransformerDecoderLayer</c>: self-attention over the target (usually
/// causal), cross-attention from the target to the encoder's memory, then a feed-forward block, each with a residual
/// connection and a layer norm. Post-norm (default): x = norm1(x + sa(x)), x = norm2(x + mha(x, mem)),
/// x = norm3(x + ff(x)); pre-norm (<c>normFirst</c>): x = x + sa(norm1(x)), x = x + mha(norm2(x), mem),
/// x = x + ff(norm3(x)). Children carry PyTorch's names: <c>self_attn</c>, <c>multihead_attn</c>, <c>linear1</c>,
/// <c>dropout</c>, <c>linear2</c>, <c>norm1</c>…<c>norm3</c>, <c>dropout1</c>…<c>dropout3</c>.
/// </summary>
/// <remarks>Shapes: tgt [B, T, E] and memory [B, S, E] with <c>batchFirst</c>, else [T, B, E] and [S, B, E] → tgt's shape.</remarks>
public sealed class TransformerDecoderLayer : Module
{
    private readonly Loom.Activation _activation;
    private readonly DType _dtype;
    private readonly Generator? _generator;

    public TransformerDecoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, bool bias = true, DType dtype = DType.Float32,
        Generator? generator = null)
    {
        _activation = FeedForwardActivation.Parse(activation, nameof(TransformerDecoderLayer));
        (DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, HasBias) =
            (dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias);
        (_dtype, _generator) = (dtype, generator);
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst, dtype: dtype, generator: generator));
        MultiheadAttn = RegisterModule("multihead_attn", new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst, dtype: dtype, generator: generator));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, bias, dtype, generator));
        Dropout = RegisterModule("dropout", new Dropout(dropout, generator));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, bias, dtype, generator));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype));
        Norm3 = RegisterModule("norm3", new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype));
        Dropout1 = RegisterModule("dropout1", new Dropout(dropout, generator));
        Dropout2 = RegisterModule("dropout2", new Dropout(dropout, generator));
        Dropout3 = RegisterModule("dropout3", new Dropout(dropout, generator));
    }

    public int DModel { get; }
    public int NHead { get; }
    public int DimFeedforward { get; }
    public double DropoutP { get; }

    /// <summary>"relu" or "gelu".</summary>
    public string Activation { get; }

    public double LayerNormEps { get; }
    public bool BatchFirst { get; }
    public bool NormFirst { get; }
    public bool HasBias { get; }

    public MultiheadAttention SelfAttn { get; private set; }
    public MultiheadAttention MultiheadAttn { get; private set; }
    public Linear Linear1 { get; }
    public Dropout Dropout { get; }
    public Linear Linear2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public LayerNorm Norm3 { get; }
    public Dropout Dropout1 { get; }
    public Dropout Dropout2 { get; }
    public Dropout Dropout3 { get; }

    /// <summary>Runs the layer (and its hooks, with tgt as input).</summary>
    /// <param name="tgtMask">[T, T] or [B·heads, T, T]: Bool (true = not allowed) or float, for self-attention.</param>
    /// <param name="memoryMask">[T, S] or [B·heads, T, S], for cross-attention.</param>
    /// <param name="tgtKeyPaddingMask">[B, T]: true at target padding.</param>
    /// <param name="memoryKeyPaddingMask">[B, S]: true at memory padding.</param>
    /// <param name="tgtIsCausal">Causal self-attention when <paramref name="tgtMask"/> is null.</param>
    /// <param name="memoryIsCausal">Causal cross-attention when <paramref name="memoryMask"/> is null.</param>
    /// <param name="cache">
    /// Incremental decoding: tgt holds only the new positions; self-attention appends their keys and values to the cache
    /// and cross-attention projects the memory on the first call and reuses it afterwards. Masks then cover every
    /// cached target position.
    /// </param>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false, KeyValueCache? cache = null)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        ArgumentNullException.ThrowIfNull(memory);
        return RunWithHooks(tgt, x =>
        {
            x = TransformerSublayer.Residual(x, Norm1, NormFirst, y => SelfAttentionBlock(y, tgtMask, tgtKeyPaddingMask, tgtIsCausal, cache));
            x = TransformerSublayer.Residual(x, Norm2, NormFirst, y => CrossAttentionBlock(y, memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal, cache));
            return TransformerSublayer.Residual(x, Norm3, NormFirst, FeedForwardBlock);
        });
    }

    private Tensor SelfAttentionBlock(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal, KeyValueCache? cache) =>
        Dropout1.Forward(SelfAttn.Forward(x, x, x, keyPaddingMask, mask, needWeights: false, isCausal: isCausal, cache: cache).Output);

    private Tensor CrossAttentionBlock(Tensor x, Tensor memory, Tensor? mask, Tensor? keyPaddingMask, bool isCausal, KeyValueCache? cache) =>
        Dropout2.Forward(MultiheadAttn.ForwardWithHooks(x, memory, memory, keyPaddingMask, mask, needWeights: false, averageAttnWeights: true,
            isCausal, cache, fixedKeyValue: true).Output);

    private Tensor FeedForwardBlock(Tensor x) =>
        Dropout3.Forward(TransformerSublayer.FeedForward(x, Linear1, _activation, Dropout, Linear2));

    /// <summary>
    /// Accepts an attention layer with fewer heads (head pruning) in place of self_attn or multihead_attn (the
    /// cross-attention, whose keys and values are the d_model-wide memory); refuses anything else.
    /// </summary>
    protected override void OnChildReplacing(string name, Module current, Module replacement)
    {
        if (name is not ("self_attn" or "multihead_attn")) base.OnChildReplacing(name, current, replacement);
        else if (name == "self_attn") SelfAttn = TransformerSublayer.AcceptAttention(nameof(TransformerDecoderLayer), name, replacement, DModel, BatchFirst);
        else MultiheadAttn = TransformerSublayer.AcceptAttention(nameof(TransformerDecoderLayer), name, replacement, DModel, BatchFirst);
    }

    /// <summary>A layer with the same configuration, weights (copied), trainability and mode: what PyTorch's deepcopy gives.</summary>
    internal TransformerDecoderLayer Copy()
    {
        var copy = new TransformerDecoderLayer(DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, HasBias, _dtype, _generator);
        TransformerCopy.CopyState(this, copy);
        return copy;
    }

    protected override string ExtraRepr() =>
        TransformerSublayer.Describe(DModel, NHead, DimFeedforward, DropoutP, Activation, NormFirst, BatchFirst);
}
