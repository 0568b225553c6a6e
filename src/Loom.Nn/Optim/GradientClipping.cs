using System.Numerics.Tensors;
using Loom.Autograd;

namespace Loom.Nn;

/// <summary>Gradient clipping, as <c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c>.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients together so that their global norm is at most <paramref name="maxNorm"/>; returns the
    /// norm before clipping. <paramref name="normType"/> is p of the p-norm (2 by default; infinity for the max norm).
    /// A non-finite norm throws when <paramref name="errorIfNonFinite"/> is set.
    /// </summary>
    public static double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm, double normType = 2, bool errorIfNonFinite = false)
    {
        HyperParameter.NonNegative(maxNorm, nameof(maxNorm), "max norm");
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "norm type must be > 0");
        var withGrad = parameters.Where(p => p.Grad is not null).ToList();
        if (withGrad.Count == 0) return 0;
        double total = 0;
        foreach (var g in withGrad.Select(p => p.Grad!))
        {
            double part = g.DType == DType.Float32 ? NormPart<float>(g.Contiguous().AsReadOnlySpan<float>(), normType) : NormPart<double>(g.Contiguous().AsReadOnlySpan<double>(), normType);
            total = double.IsPositiveInfinity(normType) ? Math.Max(total, part) : total + part;
        }
        double norm = double.IsPositiveInfinity(normType) ? total : normType == 2 ? Math.Sqrt(total) : Math.Pow(total, 1 / normType);
        if (errorIfNonFinite && !double.IsFinite(norm))
            throw new InvalidOperationException($"the total norm of order {normType} of the gradients is non-finite ({norm}), so it cannot be clipped");
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
        {
            using var noGrad = new NoGrad();
            foreach (var p in withGrad)
            {
                // A gradient that is a strided view (set by hand) is replaced by a contiguous copy, as in ClipGradValue.
                if (!p.Grad!.IsContiguous) p.Grad = p.Grad.Contiguous();
                Scale(p.Grad, coefficient);
            }
        }
        return norm;
    }

    /// <summary>Clamps every gradient element into [−clipValue, clipValue].</summary>
    public static void ClipGradValue(IEnumerable<Parameter> parameters, double clipValue)
    {
        HyperParameter.NonNegative(clipValue, nameof(clipValue), "clip value");
        foreach (var p in parameters)
        {
            if (p.Grad is not { } g) continue;
            if (!g.IsContiguous) p.Grad = g = g.Contiguous();
            if (g.DType == DType.Float32)
            {
                var s = g.AsSpan<float>();
                TensorPrimitives.Clamp(s, (float)-clipValue, (float)clipValue, s);
            }
            else
            {
                var s = g.AsSpan<double>();
                TensorPrimitives.Clamp(s, -clipValue, clipValue, s);
            }
        }
    }

    // Σ|g|^p for finite p (Σg² for p = 2), or max|g| for p = ∞, without copying the gradient.
    private static double NormPart<T>(ReadOnlySpan<T> g, double p) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (g.Length == 0) return 0;
        if (double.IsPositiveInfinity(p)) return double.CreateChecked(T.Abs(TensorPrimitives.MaxMagnitude(g)));
        if (p == 2) return double.CreateChecked(TensorPrimitives.SumOfSquares(g));
        double sum = 0;
        foreach (var v in g) sum += Math.Pow(Math.Abs(double.CreateChecked(v)), p);
        return sum;
    }

    private static void Scale(Tensor g, double factor)
    {
        if (g.DType == DType.Float32)
        {
            var s = g.AsSpan<float>();
            TensorPrimitives.Multiply(s, (float)factor, s);
        }
        else
        {
            var s = g.AsSpan<double>();
            TensorPrimitives.Multiply(s, factor, s);
        }
    }
}
