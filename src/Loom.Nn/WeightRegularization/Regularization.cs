using System.Numerics;
using System.Numerics.Tensors;
using Loom.Autograd;

namespace Loom.Nn;

// Weight penalties, added to a loss before backward:
//   L1 = λ Σ_p Σ |w|   dw = λ·g·sign(w)   (sign(0) = 0, as the subgradient PyTorch's abs uses)
//   L2 = λ Σ_p Σ w²    dw = 2λ·g·w       (no ½: the gradient is 2λw; halve λ to match a "½λ‖w‖²" convention)
// One backward node covers every parameter, so a penalty over a whole model is one graph node, not two per tensor.
// Float32 sums accumulate in double.

/// <summary>
/// Differentiable weight penalties (L1, L2) and the selection of which parameters to penalise.
/// </summary>
/// <remarks>
/// An L2 penalty on the loss equals SGD's coupled <c>weightDecay = 2λ</c>, but unlike the optimiser option it can
/// be restricted to <see cref="WeightsOnly"/> and it shows up in the loss value. With Adam prefer AdamW's decoupled
/// weight decay, which an adaptive step does not rescale.
/// </remarks>
public static class Regularization
{
    /// <summary>λ·Σ|w| over every element of every parameter: a scalar that back-propagates λ·sign(w).</summary>
    public static Tensor L1(IEnumerable<Parameter> parameters, double lambda) => Penalty(parameters, lambda, PenaltyKind.L1);

    /// <summary>λ·Σw² over every element of every parameter (without the ½): a scalar that back-propagates 2λ·w.</summary>
    public static Tensor L2(IEnumerable<Parameter> parameters, double lambda) => Penalty(parameters, lambda, PenaltyKind.L2);

    /// <summary>
    /// The parameters that are weights of Linear-, convolution-, embedding- or recurrent-like layers: their own name
    /// starts or ends with "weight" (<c>weight</c>, <c>weight_ih_l0</c>, <c>in_proj_weight</c>) and they have rank ≥ 2.
    /// Biases and the affine parameters of normalisation layers (even a LayerNorm's rank-2 weight) are left out,
    /// as they should not be decayed.
    /// </summary>
    public static IEnumerable<Parameter> WeightsOnly(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (_, owner) in module.NamedModules())
        {
            if (owner is BatchNormBase or LayerNorm or GroupNorm or RMSNorm) continue;
            foreach (var (name, p) in owner.OwnParameters())
                if ((name.StartsWith("weight", StringComparison.Ordinal) || name.EndsWith("weight", StringComparison.Ordinal)) && p.Rank >= 2 && seen.Add(p))
                    yield return p;
        }
    }

    private enum PenaltyKind { L1, L2 }

    private static Tensor Penalty(IEnumerable<Parameter> parameters, double lambda, PenaltyKind kind)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string op = kind == PenaltyKind.L1 ? "l1_penalty" : "l2_penalty";
        if (!double.IsFinite(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"{op}: lambda must be finite");
        var list = parameters.Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToArray();
        if (list.Length == 0) return Tensor.Scalar(0);
        var dtype = list[0].DType;
        double total = 0;
        foreach (var p in list)
        {
            if (p.DType != dtype || !dtype.IsFloatingPoint())
                throw new ArgumentException($"{op}: parameters must share one float dtype, got {dtype.Name()} and {p.DType.Name()} (shape {p.Shape})");
            var data = p.Contiguous();
            total += dtype == DType.Float32 ? Sum(data.AsReadOnlySpan<float>(), kind) : Sum(data.AsReadOnlySpan<double>(), kind);
        }
        var result = Tensor.Scalar(lambda * total, dtype);
        if (!GradMode.IsEnabled || !list.Any(p => p.RequiresGrad)) return result;
        return new PenaltyBackward(op, list, lambda, kind).Attach(result);
    }

    /// <summary>Σ|x| or Σx², in blocks whose float sums are added in double.</summary>
    private static double Sum<T>(ReadOnlySpan<T> x, PenaltyKind kind) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int block = 4096;
        double total = 0;
        for (int i = 0; i < x.Length; i += block)
        {
            var part = x.Slice(i, Math.Min(block, x.Length - i));
            total += double.CreateTruncating(kind == PenaltyKind.L1 ? TensorPrimitives.SumOfMagnitudes(part) : TensorPrimitives.SumOfSquares(part));
        }
        return total;
    }

    private sealed class PenaltyBackward : BackwardNode
    {
        private readonly SavedTensor?[] _weights;
        private readonly double _lambda;
        private readonly PenaltyKind _kind;

        public PenaltyBackward(string op, Parameter[] parameters, double lambda, PenaltyKind kind) : base(op, parameters)
        {
            _weights = new SavedTensor?[parameters.Length];
            for (int i = 0; i < parameters.Length; i++)
                if (NeedsGrad(i)) _weights[i] = Save(parameters[i]);
            (_lambda, _kind) = (lambda, kind);
        }

        protected override Tensor?[] Apply(Tensor gradOutput)
        {
            double scale = gradOutput.Item() * _lambda * (_kind == PenaltyKind.L2 ? 2 : 1);
            var grads = new Tensor?[_weights.Length];
            for (int i = 0; i < grads.Length; i++)
            {
                if (_weights[i] is not { } saved) continue;
                var w = saved.Value.Contiguous();
                // L1: scale·sign(w), with sign(0) = 0; L2: scale·w. Sign is Core's vectorised op, scaled in place.
                var g = _kind == PenaltyKind.L1 ? w.Sign() : Tensor.Empty(w.Shape, w.DType);
                var source = _kind == PenaltyKind.L1 ? g : w;
                if (w.DType == DType.Float32) TensorPrimitives.Multiply(source.AsReadOnlySpan<float>(), (float)scale, g.AsSpan<float>());
                else TensorPrimitives.Multiply(source.AsReadOnlySpan<double>(), scale, g.AsSpan<double>());
                grads[i] = g;
            }
            return grads;
        }
    }
}
