namespace Loom.Nn;

/// <summary>What every sublayer of a transformer layer (self-attention, cross-attention, feed-forward) shares.</summary>
internal static class TransformerSublayer
{
    /// <summary>
    /// The residual connection around <paramref name="sublayer"/> with its layer norm: after the sum in a post-norm
    /// layer, norm(x + f(x)), or on the sublayer's input in a pre-norm one, x + f(norm(x)).
    /// </summary>
    public static Tensor Residual(Tensor x, LayerNorm norm, bool normFirst, Func<Tensor, Tensor> sublayer) =>
        normFirst ? x.Add(sublayer(norm.Forward(x))) : norm.Forward(x.Add(sublayer(x)));

    /// <summary>
    /// linear2(dropout(activation(linear1(x)))), the position-wise block both layers end with; the activation is fused
    /// into linear1 (<see cref="Linear.Forward(Tensor, Loom.Activation)"/>).
    /// </summary>
    public static Tensor FeedForward(Tensor x, Linear linear1, Loom.Activation activation, Dropout dropout, Linear linear2) =>
        linear2.Forward(dropout.Forward(linear1.Forward(x, activation)));

    /// <summary>The configuration in PyTorch's repr of either layer.</summary>
    public static string Describe(int dModel, int nhead, int dimFeedforward, double dropout, string activation, bool normFirst, bool batchFirst) =>
        $"d_model={dModel}, nhead={nhead}, dim_feedforward={dimFeedforward}, dropout={dropout}, activation={activation}" +
        (normFirst ? ", norm_first=True" : "") + (batchFirst ? ", batch_first=True" : "");

    /// <summary>
    /// The attention layer a transformer layer accepts in place of one of its own (head pruning gives fewer heads): a
    /// <see cref="MultiheadAttention"/> of width <paramref name="dModel"/>, keys and values as wide, the same batch_first.
    /// </summary>
    public static MultiheadAttention AcceptAttention(string layer, string name, Module replacement, int dModel, bool batchFirst) =>
        replacement is MultiheadAttention attention && attention.EmbedDim == dModel && attention.KDim == dModel && attention.VDim == dModel && attention.BatchFirst == batchFirst
            ? attention
            : throw new NotSupportedException($"{layer}: {name} must be a MultiheadAttention of width {dModel} with batch_first={batchFirst}, got " +
                (replacement is MultiheadAttention other ? $"one of width {other.EmbedDim} with batch_first={other.BatchFirst}" : replacement.GetType().Name));
}
