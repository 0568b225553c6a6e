namespace Loom;

// Multi-head self-attention straight from a packed q|k|v projection, as one fused op (Kernels/AttentionKernels):
//   qkv [B, T, 3C] → split into heads of D = C/H → softmax(scale·Q·Kᵀ + masks)·V per head → [B, T, C], heads side by side
// It computes what the unfused composition computes (Split, Reshape, Transpose, ScaledDotProductAttention, Transpose,
// Reshape) without its copies: the kernel reads Q, K and V in place from qkv and writes each head's output at its
// columns of [B, T, C]; the backward writes d(qkv) in one tensor, where the composition summed three zero-padded slice
// gradients and copied the heads back and forth. Saved for backward: qkv, the output and one log-sum-exp per query.
public static partial class Functional
{
    /// <summary>
    /// Self-attention of a packed projection: <paramref name="qkv"/> holds the queries, keys and values of each
    /// position side by side (GPT-2's <c>c_attn</c> output), each split into <paramref name="heads"/> heads; returns the
    /// heads' outputs side by side, ready for the output projection. Fused: no [T, T] matrix per head is stored, and
    /// the backward recomputes the attention weights tile by tile.
    /// </summary>
    /// <param name="qkv">[B, T, 3·C]: columns [0, C) queries, [C, 2C) keys, [2C, 3C) values; head h at h·C/heads of each.</param>
    /// <param name="heads">Attention heads; must divide C.</param>
    /// <param name="isCausal">Query i sees keys j ≤ i only.</param>
    /// <param name="keyPadding">Bool [B, T], true for positions no query may attend to (padding); null: none.</param>
    /// <param name="scale">Defaults to 1/√(C/heads).</param>
    /// <remarks>
    /// Shapes: [B, T, 3C] → [B, T, C]. A query that may see no key at all (every visible key is padding) outputs zeros
    /// and passes no gradient; <see cref="ScaledDotProductAttention"/> gives NaN there, as PyTorch does.
    /// </remarks>
    public static Tensor SelfAttention(Tensor qkv, int heads, bool isCausal = true, Tensor? keyPadding = null, double? scale = null)
    {
        const string op = "self_attention";
        if (qkv.Rank != 3 || qkv.Shape[2] % 3 != 0)
            throw new ArgumentException($"{op}: qkv must be [B, T, 3·C] (queries, keys and values side by side), got shape {qkv.Shape}");
        int b = qkv.Shape[0], t = qkv.Shape[1], c = qkv.Shape[2] / 3;
        if (heads <= 0 || c % heads != 0)
            throw new ArgumentException($"{op}: width {c} (qkv {qkv.Shape}) is not divisible into {heads} heads");
        if (!qkv.DType.IsFloatingPoint())
            throw new NotSupportedException($"{op}: dtype {qkv.DType.Name()} is not supported (float32 or float64 only), qkv {qkv.Shape}");
        if (keyPadding is not null && (keyPadding.DType != DType.Bool || keyPadding.Shape != new Shape(b, t)))
            throw new ArgumentException($"{op}: keyPadding must be Bool [{b}, {t}] (true = padding), got {keyPadding.DType.Name()} {keyPadding.Shape}");
        int d = c / heads;
        double s = scale ?? 1 / Math.Sqrt(d);

        var input = qkv.Contiguous();
        var mask = keyPadding?.Contiguous();
        var output = Tensor.Empty(new Shape(b, t, c), qkv.DType);
        var lse = Tensor.Empty(new Shape(b, heads, t), qkv.DType);
        ReadOnlySpan<bool> hidden = mask is null ? [] : mask.Data<bool>();
        if (qkv.DType == DType.Float32)
            AttentionKernels.Forward(input.Data<float>(), hidden, output.Data<float>(), lse.Data<float>(), b, t, heads, d, (float)s, isCausal);
        else
            AttentionKernels.Forward(input.Data<double>(), hidden, output.Data<double>(), lse.Data<double>(), b, t, heads, d, s, isCausal);
        if (!GradMode.ShouldRecord(qkv)) return output;
        return new SelfAttentionBackward(qkv, input, mask, output, lse, heads, s, isCausal).Attach(output);
    }

    private sealed class SelfAttentionBackward : BackwardNode
    {
        private readonly SavedTensor _qkv;
        private readonly SavedTensor _output;
        private readonly Tensor _lse;    // made here, seen by no one else: nothing can modify it
        private readonly Tensor? _mask;  // a contiguous copy or the caller's Bool tensor, read once more in backward
        private readonly int _heads;
        private readonly double _scale;
        private readonly bool _causal;

        public SelfAttentionBackward(Tensor qkv, Tensor contiguousQkv, Tensor? mask, Tensor output, Tensor lse, int heads, double scale, bool causal)
            : base("self_attention", qkv)
        {
            _qkv = Save(contiguousQkv);
            _output = Save(output);
            _lse = lse;
            _mask = mask;
            _heads = heads;
            _scale = scale;
            _causal = causal;
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var qkv = _qkv.Value;
            var output = _output.Value;
            var dOut = gradOutput.Contiguous();
            int b = qkv.Shape[0], t = qkv.Shape[1], d = qkv.Shape[2] / 3 / _heads;
            var grad = Tensor.Empty(qkv.Shape, qkv.DType); // the kernel writes every element
            ReadOnlySpan<bool> hidden = _mask is null ? [] : _mask.Data<bool>();
            if (qkv.DType == DType.Float32)
                AttentionKernels.Backward(qkv.Data<float>(), hidden, output.Data<float>(), _lse.Data<float>(), dOut.Data<float>(),
                    grad.Data<float>(), b, t, _heads, d, (float)_scale, _causal);
            else
                AttentionKernels.Backward(qkv.Data<double>(), hidden, output.Data<double>(), _lse.Data<double>(), dOut.Data<double>(),
                    grad.Data<double>(), b, t, _heads, d, _scale, _causal);
            return [grad];
        }
    }
}
