namespace Loom.Kernels.Reference;

/// <summary>
/// Naive definitions of the losses in double, one element (or one sample) at a time, written from PyTorch's
/// documentation rather than from the fast kernels, and kept forever as the oracle the kernels are tested against.
/// Written for obviousness, not speed or range: BCE with logits takes the logs of σ directly.
/// </summary>
internal static class ReferenceLosses
{
    public static double Mse(double x, double y) => (x - y) * (x - y);

    public static double L1(double x, double y) => Math.Abs(x - y);

    public static double SmoothL1(double x, double y, double beta)
    {
        double z = Math.Abs(x - y);
        return z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
    }

    public static double Huber(double x, double y, double delta)
    {
        double z = Math.Abs(x - y);
        return z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
    }

    public static double Bce(double x, double y) => -(y * Math.Max(Math.Log(x), -100) + (1 - y) * Math.Max(Math.Log(1 - x), -100));

    public static double BceWithLogits(double x, double y, double posWeight)
    {
        double s = 1 / (1 + Math.Exp(-x));
        return -(posWeight * y * Math.Log(s) + (1 - y) * Math.Log(1 - s));
    }

    public static double KLDiv(double x, double y) => y == 0 ? 0 : y * (Math.Log(y) - x);

    public static double KLDivLogTarget(double x, double logY) => Math.Exp(logY) * (logY - x);

    /// <summary>Σ, Σ/n (or Σ/<paramref name="divisor"/>) or nothing.</summary>
    public static double[] Reduce(double[] losses, Reduction reduction, double? divisor = null) => reduction switch
    {
        Reduction.None => losses,
        Reduction.Sum => [losses.Sum()],
        _ => [losses.Sum() / (divisor ?? losses.Length)],
    };

    /// <summary>One loss per row of the [N, D] inputs.</summary>
    public static double[] CosineEmbedding(double[][] x1, double[][] x2, double[] y, double margin)
    {
        var result = new double[x1.Length];
        for (int i = 0; i < x1.Length; i++)
        {
            double dot = 0, n1 = 0, n2 = 0;
            for (int d = 0; d < x1[i].Length; d++)
            {
                dot += x1[i][d] * x2[i][d];
                n1 += x1[i][d] * x1[i][d];
                n2 += x2[i][d] * x2[i][d];
            }
            double cos = dot / Math.Sqrt((n1 + 1e-12) * (n2 + 1e-12));
            result[i] = y[i] == 1 ? 1 - cos : y[i] == -1 ? Math.Max(0, cos - margin) : 0;
        }
        return result;
    }

    public static double[] MarginRanking(double[] x1, double[] x2, double[] y, double margin) =>
        x1.Select((_, i) => Math.Max(0, -y[i] * (x1[i] - x2[i]) + margin)).ToArray();

    public static double[] TripletMargin(double[][] a, double[][] pos, double[][] neg, double margin, double p, double eps, bool swap)
    {
        var result = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            double dPos = Distance(a[i], pos[i], p, eps), dNeg = Distance(a[i], neg[i], p, eps);
            if (swap) dNeg = Math.Min(dNeg, Distance(pos[i], neg[i], p, eps));
            result[i] = Math.Max(dPos - dNeg + margin, 0);
        }
        return result;
    }

    private static double Distance(double[] u, double[] v, double p, double eps)
    {
        double sum = 0;
        for (int d = 0; d < u.Length; d++) sum += Math.Pow(Math.Abs(u[d] - v[d] + eps), p);
        return Math.Pow(sum, 1 / p);
    }
}
