using System.Numerics;
using System.Numerics.Tensors;
using Loom.Autograd;

namespace Loom.Nn;

/// <summary>
/// The max-norm weight constraint (Srivastava et al., 2014; Keras' <c>max_norm</c>, <c>torch.renorm</c>): after an
/// optimiser step, each slice of a weight whose L2 norm exceeds <c>maxNorm</c> is scaled back to it,
/// w ← w·maxNorm / (‖w‖ + 1e-7); smaller slices are left alone.
/// </summary>
/// <remarks>
/// <c>axis</c> is the dimension whose indices enumerate the slices (torch.renorm's <c>dim</c>): each slice holds
/// the elements with one index along it. For a Linear weight [out, in], axis 0 bounds each output unit's incoming
/// weight vector (a row), as Keras' <c>max_norm(axis=0)</c> does on its [in, out] kernel; for a Conv2d weight
/// [out, in, kH, kW] it bounds each filter. Call it outside autograd, typically right after <c>optimizer.Step()</c>.
/// </remarks>
public static class MaxNormConstraint
{
    // torch.renorm and Keras both add this to the norm before dividing.
    private const double Eps = 1e-7;

    /// <summary>Renormalises, in place, every slice along <paramref name="axis"/> of each parameter to an L2 norm of at most <paramref name="maxNorm"/>.</summary>
    public static void Apply(IEnumerable<Parameter> parameters, double maxNorm, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0) || double.IsInfinity(maxNorm)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "max_norm: the maximum norm must be positive and finite");
        using var noGrad = new NoGrad();
        foreach (var p in parameters)
        {
            if (p.Rank == 0) throw new ArgumentException($"max_norm: a parameter of shape {p.Shape} has no axis {axis} to take slices along");
            int a = p.Shape.NormalizeAxis(axis, "max_norm");
            if (!p.IsContiguous) throw new ArgumentException($"max_norm: parameter of shape {p.Shape} is not contiguous");
            switch (p.DType)
            {
                case DType.Float32: Renormalize<float>(p, a, maxNorm); break;
                case DType.Float64: Renormalize<double>(p, a, maxNorm); break;
                default: throw new NotSupportedException($"max_norm: dtype {p.DType.Name()} is not supported (float32 or float64)");
            }
        }
    }

    private static void Renormalize<T>(Parameter p, int axis, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = p.Shape;
        int size = shape[axis], outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Rank; i++) inner *= shape[i];
        // The slice j is the segments [o, j, :] for every o: contiguous runs of `inner` elements.
        var squares = new double[size];
        var read = p.AsReadOnlySpan<T>();
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < size; j++)
                squares[j] += double.CreateTruncating(TensorPrimitives.SumOfSquares<T>(read.Slice((o * size + j) * inner, inner)));
        // Only a weight that really changes is written (and so counts as modified for autograd's version check).
        if (!squares.Any(sq => Math.Sqrt(sq) > maxNorm)) return;
        var data = p.AsSpan<T>();
        for (int j = 0; j < size; j++)
        {
            double norm = Math.Sqrt(squares[j]);
            if (!(norm > maxNorm)) continue;
            var scale = T.CreateTruncating(maxNorm / (norm + Eps));
            for (int o = 0; o < outer; o++)
            {
                var segment = data.Slice((o * size + j) * inner, inner);
                TensorPrimitives.Multiply(segment, scale, segment);
            }
        }
    }
}
