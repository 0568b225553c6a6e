namespace Loom.Kernels.Reference;

/// <summary>
/// Naive softmax, log-softmax and cross-entropy in double precision over [outer, dim, inner] buffers (softmax axis
/// in the middle), kept forever as the oracle for <see cref="SoftmaxKernels"/>.
/// </summary>
public static class ReferenceSoftmax
{
    public static void Softmax(ReadOnlySpan<double> x, int outer, int dim, int inner, Span<double> y)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int r = 0; r < dim; r++) max = Math.Max(max, x[(o * dim + r) * inner + i]);
                for (int r = 0; r < dim; r++) sum += Math.Exp(x[(o * dim + r) * inner + i] - max);
                for (int r = 0; r < dim; r++) y[(o * dim + r) * inner + i] = Math.Exp(x[(o * dim + r) * inner + i] - max) / sum;
            }
    }

    public static void LogSoftmax(ReadOnlySpan<double> x, int outer, int dim, int inner, Span<double> y)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int r = 0; r < dim; r++) max = Math.Max(max, x[(o * dim + r) * inner + i]);
                for (int r = 0; r < dim; r++) sum += Math.Exp(x[(o * dim + r) * inner + i] - max);
                for (int r = 0; r < dim; r++) y[(o * dim + r) * inner + i] = x[(o * dim + r) * inner + i] - max - Math.Log(sum);
            }
    }

    /// <summary>
    /// Per-row cross-entropy of logits [rows, classes] against class indices, written as PyTorch defines it:
    /// −(1 − ε) w_t logp_t − (ε/C) Σ_c w_c logp_c, and 0 for ignored rows.
    /// </summary>
    public static double[] CrossEntropy(ReadOnlySpan<double> logits, int rows, int classes, ReadOnlySpan<long> target, double[]? weight,
        long ignoreIndex, double smoothing)
    {
        var loss = new double[rows];
        var logp = new double[classes];
        for (int i = 0; i < rows; i++)
        {
            if (target[i] == ignoreIndex) continue;
            LogSoftmax(logits.Slice(i * classes, classes), 1, classes, 1, logp);
            int t = (int)target[i];
            double smooth = 0;
            for (int c = 0; c < classes; c++) smooth -= (weight?[c] ?? 1) * logp[c];
            loss[i] = -(1 - smoothing) * (weight?[t] ?? 1) * logp[t] + smoothing / classes * smooth;
        }
        return loss;
    }

    /// <summary>Per-row cross-entropy against class probabilities [rows, classes]: −Σ_c w_c q'_c logp_c with q' = (1 − ε) q + ε/C.</summary>
    public static double[] SoftCrossEntropy(ReadOnlySpan<double> logits, int rows, int classes, ReadOnlySpan<double> probabilities, double[]? weight,
        double smoothing)
    {
        var loss = new double[rows];
        var logp = new double[classes];
        for (int i = 0; i < rows; i++)
        {
            LogSoftmax(logits.Slice(i * classes, classes), 1, classes, 1, logp);
            for (int c = 0; c < classes; c++)
                loss[i] -= (weight?[c] ?? 1) * ((1 - smoothing) * probabilities[i * classes + c] + smoothing / classes) * logp[c];
        }
        return loss;
    }
}
