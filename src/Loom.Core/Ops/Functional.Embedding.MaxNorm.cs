namespace Loom;

// embedding(max_norm): before the lookup, every row of the weight that the indices reference and whose p-norm exceeds
// max_norm is scaled in place to max_norm / (norm + 1e-7) of itself, as PyTorch's embedding_renorm_ (outside autograd:
// the lookup's gradient then flows to the renormalised rows).
public static partial class Functional
{
    private static void RenormReferencedRows(Tensor weight, Tensor index, double maxNorm, double normType)
    {
        const string op = "embedding";
        if (!(maxNorm > 0)) throw new ArgumentException($"{op}: max norm must be positive, got {maxNorm}");
        if (!(normType > 0)) throw new ArgumentException($"{op}: norm type must be positive, got {normType}");
        if (!weight.IsContiguous) throw new ArgumentException($"{op}: max norm renormalises the weight in place, which needs it contiguous (shape {weight.Shape})");
        var rows = new SortedSet<long>();
        foreach (long i in index.AsReadOnlySpan<long>()) rows.Add(i);
        using var noGrad = new NoGrad();
        if (weight.DType == DType.Float32) Renorm(weight.AsSpan<float>(), weight.Shape[1], rows, maxNorm, normType);
        else Renorm(weight.AsSpan<double>(), weight.Shape[1], rows, maxNorm, normType);
    }

    private static void Renorm<T>(Span<T> w, int d, IEnumerable<long> rows, double maxNorm, double normType) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (long r in rows)
        {
            var row = w.Slice((int)r * d, d);
            double norm = 0;
            foreach (var v in row)
            {
                double a = Math.Abs(double.CreateTruncating(v));
                norm = double.IsPositiveInfinity(normType) ? Math.Max(norm, a) : norm + (normType == 1 ? a : normType == 2 ? a * a : Math.Pow(a, normType));
            }
            if (!double.IsPositiveInfinity(normType)) norm = normType == 1 ? norm : normType == 2 ? Math.Sqrt(norm) : Math.Pow(norm, 1 / normType);
            if (norm <= maxNorm) continue;
            var scale = T.CreateTruncating(maxNorm / (norm + 1e-7));
            for (int i = 0; i < row.Length; i++) row[i] *= scale;
        }
    }
}
