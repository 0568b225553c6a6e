namespace Loom.Nn;

/// <summary>
/// One transformer encoder layer, as <c>torch.nn.TransformerEncoderLayer</c>: self-attention then a feed-forward
/// block (linear1 → activation → dropout → linear2), each wrapped in a residual connection and a layer norm.
/// Post-norm (the default, as in "Attention Is All You Need"): x = norm1(x + sa(x)), x = norm2(x + ff(x)).
/// Pre-norm (<c>normFirst</c>): x = x + sa(norm1(x)), x = x + ff(norm2(x)). Children carry PyTorch's names:
/// <c>self_attn</c>, <c>linear1</c>, <c>dropout</c>, <c>linear2</c>, <c>norm1</c>, <c>norm2</c>, <c>dropout1</c>, <c>dropout2</c>.
/// </summary>
/// <remarks>Shapes: src [B, S, E] with <c>batchFirst</c>, else [S, B, E] (E = dModel) → the same shape.</remarks>
public sealed class TransformerEncoderLayer : Module<Tensor, Tensor>
{
    private readonly Loom.Activation _activation;
    private readonly DType _dtype;
    private readonly Generator? _generator;

    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, bool bias = true, DType dtype = DType.Float32,
        Generator? generator = null)
    {
        _activation = FeedForwardActivation.Parse(activation, nameof(TransformerEncoderLayer));
        (DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, HasBias) =
            (dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias);
        (_dtype, _generator) = (dtype, generator);
        SelfAttn = RegisterModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst, dtype: dtype, generator: generator));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, bias, dtype, generator));
        Dropout = RegisterModule("dropout", new Dropout(dropout, generator));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, bias, dtype, generator));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype));
        Dropout1 = RegisterModule("dropout1", new Dropout(dropout, generator));
        Dropout2 = RegisterModule("dropout2", new Dropout(dropout, generator));
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
    public Linear Linear1 { get; }
    public Dropout Dropout { get; }
    public Linear Linear2 { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public Dropout Dropout1 { get; }
    public Dropout Dropout2 { get; }

    /// <summary>Runs the layer (and its hooks, with src as input).</summary>
    /// <param name="srcMask">[S, S] or [B·heads, S, S]: Bool (true = not allowed) or float (added to the scores).</param>
    /// <param name="srcKeyPaddingMask">[B, S]: Bool, true at padding positions, or float.</param>
    /// <param name="isCausal">Mask later positions when <paramref name="srcMask"/> is null (a hint otherwise).</param>
    public Tensor Forward(Tensor src, Tensor? srcMask = null, Tensor? srcKeyPaddingMask = null, bool isCausal = false) =>
        RunWithHooks(src, x => Encode(x, srcMask, srcKeyPaddingMask, isCausal));

    protected override Tensor ForwardCore(Tensor input) => Encode(input, null, null, false);

    private Tensor Encode(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal)
    {
        x = TransformerSublayer.Residual(x, Norm1, NormFirst, y => SelfAttentionBlock(y, mask, keyPaddingMask, isCausal));
        return TransformerSublayer.Residual(x, Norm2, NormFirst, FeedForwardBlock);
    }

    private Tensor SelfAttentionBlock(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        Dropout1.Forward(SelfAttn.Forward(x, x, x, keyPaddingMask, mask, needWeights: false, isCausal: isCausal).Output);

    private Tensor FeedForwardBlock(Tensor x) =>
        Dropout2.Forward(TransformerSublayer.FeedForward(x, Linear1, _activation, Dropout, Linear2));

    /// <summary>
    /// Accepts another self-attention of the same width and layout in place of <see cref="SelfAttn"/> (one with fewer
    /// heads, after head pruning); refuses anything else, which this layer could not call.
    /// </summary>
    protected override void OnChildReplacing(string name, Module current, Module replacement)
    {
        if (name != "self_attn") base.OnChildReplacing(name, current, replacement);
        else SelfAttn = TransformerSublayer.AcceptAttention(nameof(TransformerEncoderLayer), name, replacement, DModel, BatchFirst);
    }

    /// <summary>A layer with the same configuration, weights (copied), trainability and mode: what PyTorch's deepcopy gives.</summary>
    internal TransformerEncoderLayer Copy()
    {
        var copy = new TransformerEncoderLayer(DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst, HasBias, _dtype, _generator);
        TransformerCopy.CopyState(this, copy);
        return copy;
    }

    protected override string ExtraRepr() =>
        TransformerSublayer.Describe(DModel, NHead, DimFeedforward, DropoutP, Activation, NormFirst, BatchFirst);
}
