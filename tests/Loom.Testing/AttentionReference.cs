namespace Loom.Testing;

/// <summary>
/// Attention probabilities computed the plain way, in float64 loops over the layer's own weights: the independent
/// side of the checks that a layer's captured attention weights are softmax(Q·Kᵀ/√d + mask).
/// </summary>
public static class AttentionReference
{
    /// <summary>
    /// softmax(q·k/√d) per head for self-attention over <paramref name="x"/> [B, T, E], with the query and key
    /// projections in the first two thirds of <paramref name="weight"/> [3E, E] (rows: outputs, as a Linear's weight) and
    /// <paramref name="bias"/> [3E]; <paramref name="masked"/>(b, i, j) hides key j from query i (weight exactly 0).
    /// Returns [B, heads, T, T] row-major.
    /// </summary>
    public static double[] SelfAttention(Tensor x, Tensor weight, Tensor? bias, int heads, Func<int, int, int, bool> masked)
    {
        int b = x.Shape[0], t = x.Shape[1], e = x.Shape[2], d = e / heads;
        var xs = x.To(DType.Float64).Contiguous().ToArray<double>();
        var w = weight.To(DType.Float64).Contiguous().ToArray<double>();
        var bs = bias?.To(DType.Float64).ToArray<double>();
        double Project(int batch, int pos, int row)
        {
            double sum = bs?[row] ?? 0;
            for (int c = 0; c < e; c++) sum += w[row * e + c] * xs[(batch * t + pos) * e + c];
            return sum;
        }
        var result = new double[b * heads * t * t];
        var scores = new double[t];
        for (int n = 0; n < b; n++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < t; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < t; j++)
                    {
                        if (masked(n, i, j)) continue;
                        double dot = 0;
                        for (int k = 0; k < d; k++) dot += Project(n, i, h * d + k) * Project(n, j, e + h * d + k);
                        scores[j] = dot / Math.Sqrt(d);
                        max = Math.Max(max, scores[j]);
                    }
                    double total = 0;
                    for (int j = 0; j < t; j++)
                        if (!masked(n, i, j)) total += Math.Exp(scores[j] - max);
                    for (int j = 0; j < t; j++)
                        result[((n * heads + h) * t + i) * t + j] = masked(n, i, j) ? 0 : Math.Exp(scores[j] - max) / total;
                }
        return result;
    }
}
