namespace Loom.Nn;

// Scaled dot-product attention, the core of MultiheadAttention and the transformer layers (the entry point without
// weights is Functional.ScaledDotProductAttention in Loom.Core; MultiheadAttention also returns the weights):
//   A = softmax(s·Q·Kᵀ + M),  O = A·V        Q [..., L, d], K [..., S, d], V [..., S, dv], M [..., L, S], s = 1/√d
// A Bool mask is true where attention is NOT allowed (M = −∞ there, via MaskedFill); a float mask is added as M.
// Backward is the composition of the ops used, each with its own rule:
//   dV = Aᵀ·dO,  dA = dO·Vᵀ,  dZ = A ⊙ (dA − Σ_j dA ⊙ A)  (softmax),  dQ = s·dZ·K,  dK = s·dZᵀ·Q
// The leading dimensions (batch and heads) go to the batched Matmul in one call, with K transposed as a view (no
// copy); the scores are one contiguous [..., L, S] tensor that the fused softmax normalises row by row.
// Trap: a row whose keys are all masked gets softmax(−∞, …, −∞) = NaN, as in PyTorch; padding masks must leave every
// query at least one key.

/// <summary>Scaled dot-product attention and the masks it uses.</summary>
public static class Attention
{
    /// <summary>
    /// The causal (look-ahead) mask for a square attention: Bool [size, size], true above the diagonal, i.e. where
    /// query i would see a later position j &gt; i. Pass it as <c>attnMask</c>.
    /// </summary>
    public static Tensor CausalMask(int size) => CausalMask(size, size);

    /// <summary>
    /// The causal mask for <paramref name="queryLength"/> queries that are the last positions of
    /// <paramref name="keyLength"/> keys (as when decoding with a <see cref="KeyValueCache"/>): Bool [L, S], true
    /// where key j comes after query i, i.e. j &gt; i + S − L. Equals <see cref="CausalMask(int)"/> when L = S.
    /// </summary>
    public static Tensor CausalMask(int queryLength, int keyLength) => Functional.CausalMask(queryLength, keyLength);

    /// <summary>
    /// softmax(scale·Q·Kᵀ + mask)·V over the last two dimensions, batched over the leading ones (which broadcast).
    /// </summary>
    /// <param name="query">[..., L, d].</param>
    /// <param name="key">[..., S, d].</param>
    /// <param name="value">[..., S, dv].</param>
    /// <param name="mask">
    /// Broadcastable to [..., L, S]: Bool, true where attention is NOT allowed (the convention of
    /// <see cref="MultiheadAttention"/> and <see cref="CausalMask(int)"/>; note that torch's
    /// <c>scaled_dot_product_attention</c> uses the opposite convention for Bool masks), or float, added to the scores.
    /// </param>
    /// <param name="dropoutP">Dropout probability on the attention weights (applied whenever it is positive).</param>
    /// <param name="isCausal">Also mask later keys (<see cref="CausalMask(int, int)"/>: queries aligned to the last keys).</param>
    /// <param name="scale">Defaults to 1/√d.</param>
    /// <param name="generator">Dropout's random source (default <see cref="Generator.Default"/>).</param>
    /// <remarks>Shapes: [..., L, d], [..., S, d], [..., S, dv] → [..., L, dv].</remarks>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null, double dropoutP = 0,
        bool isCausal = false, double? scale = null, Generator? generator = null) =>
        Functional.ScaledDotProductAttention(query, key, value, mask, isCausal, scale, dropoutP, generator);

    /// <summary>
    /// The attention probabilities softmax(scale·Q·Kᵀ + mask) [..., L, S] alone, without the values: what
    /// <see cref="ScaledDotProductAttention"/> weights the values with (before dropout). Layers that take a fused path
    /// which never forms them call this only when someone asks for them (<see cref="IAttentionLayer"/>).
    /// </summary>
    /// <param name="mask">As for <see cref="ScaledDotProductAttention"/>: Bool (true = not allowed) or float, added.</param>
    /// <param name="isCausal">Also mask later keys (queries aligned to the last keys).</param>
    /// <param name="scale">Defaults to 1/√d.</param>
    public static Tensor Weights(Tensor query, Tensor key, Tensor? mask = null, bool isCausal = false, double? scale = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        if (query.Rank < 2 || key.Rank < 2 || query.Shape[^1] != key.Shape[^1])
            throw new ArgumentException($"attention weights: query {query.Shape} and key {key.Shape} must be [..., L, d] and [..., S, d]");
        int l = query.Shape[^2], s = key.Shape[^2];
        if (mask is not null) CheckMaskDType(mask, "attention weights", "mask");
        var causal = isCausal && l > 1 ? CausalMask(l, s) : null;
        return Probabilities(query, key, CombineMasks(causal, mask, query.DType), scale ?? 1 / Math.Sqrt(query.Shape[^1]));
    }

    /// <summary>
    /// The attention output [..., L, dv], the weights [..., L, S] after dropout (as PyTorch returns them) and the
    /// probabilities before it (what attention hooks see).
    /// </summary>
    internal static (Tensor Output, Tensor Weights, Tensor Probabilities) Compute(Tensor query, Tensor key, Tensor value, Tensor? mask, double dropoutP, double scale,
        Generator? generator)
    {
        var probabilities = Probabilities(query, key, mask, scale);
        var weights = dropoutP > 0 ? Functional.Dropout(probabilities, dropoutP, training: true, generator) : probabilities;
        return (weights.Matmul(value), weights, probabilities);
    }

    private static Tensor Probabilities(Tensor query, Tensor key, Tensor? mask, double scale)
    {
        // Scaling Q rather than the scores costs L·d instead of L·S multiplications (and matches PyTorch's rounding).
        var q = scale == 1 ? query : query.Mul(scale);
        var scores = q.Matmul(key.Transpose(-2, -1));
        if (mask is not null)
            scores = mask.DType == DType.Bool ? scores.MaskedFill(mask, double.NegativeInfinity) : scores.Add(mask);
        return scores.Softmax(-1);
    }

    /// <summary>
    /// One mask equivalent to applying both: Bool masks are OR-ed; otherwise each becomes additive (0 or −∞ for a Bool
    /// one, converted to <paramref name="dtype"/>) and they are summed. Shapes broadcast.
    /// </summary>
    internal static Tensor? CombineMasks(Tensor? a, Tensor? b, DType dtype)
    {
        if (a is null) return b;
        if (b is null) return a;
        if (a.DType == DType.Bool && b.DType == DType.Bool) return a.LogicalOr(b);
        return Additive(a, dtype).Add(Additive(b, dtype));
    }

    private static Tensor Additive(Tensor mask, DType dtype) =>
        mask.DType == DType.Bool ? Tensor.Zeros(mask.Shape, dtype).MaskedFill(mask, double.NegativeInfinity) : mask.To(dtype);

    internal static void CheckMaskDType(Tensor mask, string op, string name)
    {
        if (mask.DType != DType.Bool && !mask.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: {name} must be Bool (true = not allowed) or floating point (added to the scores), got {mask.DType.Name()} (shape {mask.Shape})");
    }
}
