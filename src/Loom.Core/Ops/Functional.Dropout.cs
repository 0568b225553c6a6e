using Loom.Random;

namespace Loom;

// Inverted dropout: each element is kept with probability 1 − p and scaled by 1/(1 − p), so the expectation is
// unchanged and evaluation needs no rescaling.
//   y = x ⊙ m,  m_i = 1/(1 − p) with probability 1 − p, else 0      dx = dy ⊙ m
public static partial class Functional
{
    /// <summary>
    /// Dropout as <c>torch.nn.functional.dropout</c>. Returns <paramref name="input"/> itself when not training or
    /// when p = 0, and zeros (times the input, so NaN stays NaN) when p = 1. The mask is drawn from
    /// <paramref name="generator"/> (default: <see cref="Generator.Default"/>), so the same seed gives the same mask.
    /// </summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"dropout: probability must be in [0, 1], got {p} (input shape {input.Shape})");
        if (!training || p == 0) return input;
        if (!input.DType.IsFloatingPoint()) throw new NotSupportedException($"dropout: dtype {input.DType.Name()} is not supported (float32 or float64)");
        var g = generator ?? Generator.Default;
        var mask = Tensor.Empty(input.Shape, input.DType);
        var x = input.Detach().Contiguous();
        var y = Tensor.Empty(input.Shape, input.DType);
        if (input.DType == DType.Float32)
        {
            DropoutMask(mask.Data<float>(), p, g);
            TensorPrimitives.Multiply<float>(x.Data<float>(), mask.Data<float>(), y.Data<float>());
        }
        else
        {
            DropoutMask(mask.Data<double>(), p, g);
            TensorPrimitives.Multiply<double>(x.Data<double>(), mask.Data<double>(), y.Data<double>());
        }
        return GradMode.ShouldRecord(input) ? new DropoutBackward(input, mask).Attach(y) : y;
    }

    /// <summary>
    /// Fills <paramref name="mask"/> with 1/(1 − p) (kept) or 0 (dropped). Each 64-bit draw gives two 32-bit
    /// uniforms u; an element is kept when u ≥ p·2³², so the keep probability is 1 − p to within 2⁻³².
    /// </summary>
    internal static void DropoutMask<T>(Span<T> mask, double p, Generator generator) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ulong threshold = (ulong)Math.Min(Math.Round(p * 4294967296.0), 4294967296.0);
        T keep = p >= 1 ? T.Zero : T.CreateTruncating(1 / (1 - p));
        int i = 0;
        for (; i + 1 < mask.Length; i += 2)
        {
            ulong bits = generator.NextUInt64();
            mask[i] = (bits & 0xFFFF_FFFFUL) >= threshold ? keep : T.Zero;
            mask[i + 1] = (bits >> 32) >= threshold ? keep : T.Zero;
        }
        if (i < mask.Length) mask[i] = (generator.NextUInt64() & 0xFFFF_FFFFUL) >= threshold ? keep : T.Zero;
    }

    private sealed class DropoutBackward : BackwardNode
    {
        private readonly Tensor _mask; // private to this node: nobody else can modify it

        public DropoutBackward(Tensor input, Tensor mask) : base("dropout", input) => _mask = mask;

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dy = gradOutput.Contiguous();
            var dx = Tensor.Empty(_mask.Shape, _mask.DType);
            if (dx.DType == DType.Float32) TensorPrimitives.Multiply<float>(dy.Data<float>(), _mask.Data<float>(), dx.Data<float>());
            else TensorPrimitives.Multiply<double>(dy.Data<double>(), _mask.Data<double>(), dx.Data<double>());
            return [dx];
        }
    }
}
