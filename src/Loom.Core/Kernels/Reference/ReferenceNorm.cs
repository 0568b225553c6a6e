namespace Loom.Kernels.Reference;

/// <summary>
/// Naive normalisation layers in double precision, written straight from their definitions, kept forever as the
/// oracle for <see cref="NormKernels"/> and the normalisation functions built on them. Null weight or bias means
/// no affine step.
/// </summary>
public static class ReferenceNorm
{
    /// <summary>Layer norm of each row of [rows, n].</summary>
    public static void LayerNorm(ReadOnlySpan<double> x, int rows, int n, double[]? weight, double[]? bias, double eps, Span<double> y)
    {
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int j = 0; j < n; j++) mean += x[r * n + j];
            mean /= n;
            for (int j = 0; j < n; j++) variance += (x[r * n + j] - mean) * (x[r * n + j] - mean);
            variance /= n;
            for (int j = 0; j < n; j++)
                y[r * n + j] = (x[r * n + j] - mean) / Math.Sqrt(variance + eps) * (weight?[j] ?? 1) + (bias?[j] ?? 0);
        }
    }

    /// <summary>RMS norm of each row of [rows, n].</summary>
    public static void RmsNorm(ReadOnlySpan<double> x, int rows, int n, double[]? weight, double eps, Span<double> y)
    {
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int j = 0; j < n; j++) ms += x[r * n + j] * x[r * n + j];
            ms /= n;
            for (int j = 0; j < n; j++) y[r * n + j] = x[r * n + j] / Math.Sqrt(ms + eps) * (weight?[j] ?? 1);
        }
    }

    /// <summary>
    /// Batch norm of [n, c, s] with the given per-channel mean and variance, or the batch's (biased) ones when
    /// they are null; returns the batch mean and unbiased variance (for checking running statistics).
    /// </summary>
    public static (double[] Mean, double[] UnbiasedVar) BatchNorm(ReadOnlySpan<double> x, int n, int c, int s, double[]? mean, double[]? variance,
        double[]? weight, double[]? bias, double eps, Span<double> y)
    {
        var batchMean = new double[c];
        var batchVar = new double[c];
        double m = (double)n * s;
        for (int ch = 0; ch < c; ch++)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++) batchMean[ch] += x[(i * c + ch) * s + j];
            batchMean[ch] /= m;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++) batchVar[ch] += Math.Pow(x[(i * c + ch) * s + j] - batchMean[ch], 2);
            double mu = mean?[ch] ?? batchMean[ch];
            double v = variance?[ch] ?? batchVar[ch] / m;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < s; j++)
                {
                    int e = (i * c + ch) * s + j;
                    y[e] = (x[e] - mu) / Math.Sqrt(v + eps) * (weight?[ch] ?? 1) + (bias?[ch] ?? 0);
                }
            batchVar[ch] /= m - 1;
        }
        return (batchMean, batchVar);
    }

    /// <summary>Group norm of [n, c, s] with <paramref name="groups"/> groups of channels.</summary>
    public static void GroupNorm(ReadOnlySpan<double> x, int n, int c, int s, int groups, double[]? weight, double[]? bias, double eps, Span<double> y)
    {
        int per = c / groups;
        for (int i = 0; i < n; i++)
            for (int g = 0; g < groups; g++)
            {
                double mean = 0, variance = 0;
                for (int ch = g * per; ch < (g + 1) * per; ch++)
                    for (int j = 0; j < s; j++) mean += x[(i * c + ch) * s + j];
                mean /= per * s;
                for (int ch = g * per; ch < (g + 1) * per; ch++)
                    for (int j = 0; j < s; j++) variance += Math.Pow(x[(i * c + ch) * s + j] - mean, 2);
                variance /= per * s;
                for (int ch = g * per; ch < (g + 1) * per; ch++)
                    for (int j = 0; j < s; j++)
                    {
                        int e = (i * c + ch) * s + j;
                        y[e] = (x[e] - mean) / Math.Sqrt(variance + eps) * (weight?[ch] ?? 1) + (bias?[ch] ?? 0);
                    }
            }
    }
}
