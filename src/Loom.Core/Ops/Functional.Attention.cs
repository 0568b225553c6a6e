using Loom.Random;

namespace Loom;

// Scaled dot-product attention, the one entry point every attention layer (Loom.Nn's MultiheadAttention, Loom.Models'
// GPT) goes through, so a fused kernel can replace the inside without touching a model:
//   A = softmax(s·Q·Kᵀ + M),  O = A·V        Q [..., L, d], K [..., S, d], V [..., S, dv], M [..., L, S], s = 1/√d
// Today it is the composition of batched Matmul (K transposed as a view, no copy), MaskedFill/Add, the fused Softmax and
// Matmul, each with its own backward:
//   dV = Aᵀ·dO,  dA = dO·Vᵀ,  dZ = A ⊙ (dA − Σ_j dA ⊙ A)  (softmax),  dQ = s·dZ·K,  dK = s·dZᵀ·Q
// A causal call masks key j for query i when j > i + S − L: the queries are the last L of the S positions, which is
// what decoding with a key/value cache needs (L = S for a whole sequence).
// Trap: a row whose keys are all masked gets softmax(−∞, …, −∞) = NaN, as in PyTorch; padding masks must leave every
// query at least one key.
public static partial class Functional
{
    /// <summary>
    /// softmax(scale·Q·Kᵀ + mask)·V over the last two dimensions, batched over the leading ones (which broadcast), as
    /// <c>torch.nn.functional.scaled_dot_product_attention</c> except for the Bool mask convention.
    /// </summary>
    /// <param name="query">[..., L, d].</param>
    /// <param name="key">[..., S, d].</param>
    /// <param name="value">[..., S, dv].</param>
    /// <param name="mask">
    /// Broadcastable to [..., L, S]: Bool, true where attention is NOT allowed (torch's <c>scaled_dot_product_attention</c>
    /// uses the opposite convention for Bool masks), or float, added to the scores.
    /// </param>
    /// <param name="isCausal">Also mask later keys: key j is hidden from query i when j &gt; i + S − L.</param>
    /// <param name="scale">Defaults to 1/√d.</param>
    /// <param name="dropoutP">Dropout probability on the attention weights (applied whenever it is positive).</param>
    /// <param name="generator">Dropout's random source (default <see cref="Generator.Default"/>).</param>
    /// <remarks>Shapes: [..., L, d], [..., S, d], [..., S, dv] → [..., L, dv].</remarks>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null, bool isCausal = false,
        double? scale = null, double dropoutP = 0, Generator? generator = null)
    {
        const string op = "scaled_dot_product_attention";
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2)
            throw new ArgumentException($"{op}: query, key and value need at least 2 dimensions, got {query.Shape}, {key.Shape} and {value.Shape}");
        int l = query.Shape.Dims[^2], d = query.Shape.Dims[^1], s = key.Shape.Dims[^2];
        if (key.Shape.Dims[^1] != d)
            throw new ArgumentException($"{op}: query {query.Shape} and key {key.Shape} must have the same last dimension ({d} != {key.Shape.Dims[^1]})");
        if (value.Shape.Dims[^2] != s)
            throw new ArgumentException($"{op}: key {key.Shape} and value {value.Shape} must have the same number of positions ({s} != {value.Shape.Dims[^2]})");
        if (!(dropoutP >= 0 && dropoutP <= 1))
            throw new ArgumentException($"{op}: dropout probability must be in [0, 1], got {dropoutP}");
        if (isCausal && s < l)
            throw new ArgumentException($"{op}: a causal mask needs at least as many keys as queries, got query {query.Shape} and key {key.Shape}");
        if (mask is not null)
        {
            if (mask.DType != DType.Bool && !mask.DType.IsFloatingPoint())
                throw new ArgumentException($"{op}: mask must be Bool (true = not allowed) or floating point (added to the scores), got {mask.DType.Name()} (shape {mask.Shape})");
            var batch = Shape.Broadcast(new Shape(query.Shape.Dims[..^2]), new Shape(key.Shape.Dims[..^2]), op);
            var scores = new Shape([.. batch.Dims, l, s]);
            if (!BroadcastsTo(mask.Shape, scores))
                throw new ArgumentException($"{op}: mask {mask.Shape} does not broadcast to the attention scores {scores}");
        }
        // Scaling Q rather than the scores costs L·d instead of L·S multiplications (and matches PyTorch's rounding).
        double s0 = scale ?? 1 / Math.Sqrt(d);
        var q = s0 == 1 ? query : query.Mul(s0);
        var weights = q.Matmul(key.Transpose(-2, -1));
        if (isCausal && l > 1) weights = weights.MaskedFill(CausalMask(l, s), double.NegativeInfinity);
        if (mask is not null)
            weights = mask.DType == DType.Bool ? weights.MaskedFill(mask, double.NegativeInfinity) : weights.Add(mask);
        weights = weights.Softmax(-1);
        if (dropoutP > 0) weights = Dropout(weights, dropoutP, training: true, generator);
        return weights.Matmul(value);
    }

    /// <summary>
    /// The causal (look-ahead) mask for <paramref name="queryLength"/> queries that are the last positions of
    /// <paramref name="keyLength"/> keys (square when they are equal; the last rows when decoding with a cache): Bool
    /// [L, S], true where key j comes after query i, i.e. j &gt; i + S − L — where attention is not allowed.
    /// </summary>
    public static Tensor CausalMask(int queryLength, int keyLength)
    {
        if (queryLength < 0 || keyLength < queryLength)
            throw new ArgumentException($"CausalMask: needs 0 ≤ queryLength ≤ keyLength, got queryLength {queryLength} and keyLength {keyLength}");
        var mask = Tensor.Zeros(new Shape(queryLength, keyLength), DType.Bool);
        var data = mask.AsSpan<bool>();
        int shift = keyLength - queryLength;
        for (int i = 0; i < queryLength; i++)
            data.Slice(i * keyLength + i + shift + 1, keyLength - i - shift - 1).Fill(true);
        return mask;
    }

    private static bool BroadcastsTo(Shape shape, Shape target)
    {
        if (shape.Rank > target.Rank) return false;
        for (int i = 1; i <= shape.Rank; i++)
            if (shape[^i] != 1 && shape[^i] != target[^i]) return false;
        return true;
    }
}
