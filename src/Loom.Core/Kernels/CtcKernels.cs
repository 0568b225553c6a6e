namespace Loom.Kernels;

/// <summary>
/// Connectionist temporal classification (Graves et al., 2006) for one sequence, in log space and double precision.
/// The target l of length S is extended with blanks to l′ = (b, l₁, b, l₂, …, l_S, b), length 2S + 1;
///   α_t(s) = lp_t(l′_s) + logsumexp(α_{t−1}(s), α_{t−1}(s − 1), α_{t−1}(s − 2) if l′_s ≠ b and l′_s ≠ l′_{s−2}),
///   β_t(s) = lp_t(l′_s) + logsumexp(β_{t+1}(s), β_{t+1}(s + 1), β_{t+1}(s + 2) under the same condition),
/// starting from the first two (last two) states, and nll = −logsumexp(α_{T−1}(L − 1), α_{T−1}(L − 2)). The gradient
/// of nll w.r.t. lp_t(c) is −exp(logsumexp_{s: l′_s = c}(α_t(s) + β_t(s)) + nll − lp_t(c)) (α and β both hold lp_t).
/// </summary>
/// <remarks>One sequence per call, so the caller can run the batch in parallel. Layout: lp_t(c) of this sequence is
/// lp[offset + t·stride + c] (the sample's column of a [T, N, C] tensor), and its gradient goes to the same place.</remarks>
internal static class CtcKernels
{
    /// <summary>Fills alpha [T, L] (T = <paramref name="steps"/>) and returns nll (+∞ when no alignment exists).</summary>
    public static double Forward(ReadOnlySpan<double> logProbs, int offset, int stride, int steps, ReadOnlySpan<long> target, int blank, Span<double> alpha)
    {
        int s = target.Length, l = 2 * s + 1;
        if (steps == 0) return s == 0 ? 0 : double.PositiveInfinity;
        alpha[..(steps * l)].Fill(double.NegativeInfinity);
        alpha[0] = logProbs[offset + blank];
        if (l > 1) alpha[1] = logProbs[offset + (int)target[0]];
        for (int t = 1; t < steps; t++)
        {
            var prev = alpha.Slice((t - 1) * l, l);
            var cur = alpha.Slice(t * l, l);
            for (int k = 0; k < l; k++)
            {
                int label = Label(target, k, blank);
                double a = prev[k];
                if (k >= 1) a = LogAdd(a, prev[k - 1]);
                if (k >= 2 && label != blank && label != Label(target, k - 2, blank)) a = LogAdd(a, prev[k - 2]);
                cur[k] = a == double.NegativeInfinity ? a : a + logProbs[offset + t * stride + label];
            }
        }
        var last = alpha.Slice((steps - 1) * l, l);
        double logLikelihood = l > 1 ? LogAdd(last[l - 1], last[l - 2]) : last[0];
        return -logLikelihood;
    }

    /// <summary>Writes the gradient of nll w.r.t. lp, times <paramref name="scale"/>, into grad at the sample's places for t &lt; steps.</summary>
    public static void Backward(ReadOnlySpan<double> logProbs, int offset, int stride, int steps, int classes, ReadOnlySpan<long> target, int blank,
        ReadOnlySpan<double> alpha, double nll, double scale, Span<double> beta, Span<double> grad)
    {
        int s = target.Length, l = 2 * s + 1;
        if (steps == 0) return;
        beta[..(steps * l)].Fill(double.NegativeInfinity);
        var lastRow = beta.Slice((steps - 1) * l, l);
        lastRow[l - 1] = logProbs[offset + (steps - 1) * stride + Label(target, l - 1, blank)];
        if (l > 1) lastRow[l - 2] = logProbs[offset + (steps - 1) * stride + Label(target, l - 2, blank)];
        for (int t = steps - 2; t >= 0; t--)
        {
            var next = beta.Slice((t + 1) * l, l);
            var cur = beta.Slice(t * l, l);
            for (int k = 0; k < l; k++)
            {
                int label = Label(target, k, blank);
                double b = next[k];
                if (k + 1 < l) b = LogAdd(b, next[k + 1]);
                if (k + 2 < l && label != blank && label != Label(target, k + 2, blank)) b = LogAdd(b, next[k + 2]);
                cur[k] = b == double.NegativeInfinity ? b : b + logProbs[offset + t * stride + label];
            }
        }
        var sum = new double[classes];
        for (int t = 0; t < steps; t++)
        {
            Array.Fill(sum, double.NegativeInfinity);
            for (int k = 0; k < l; k++)
            {
                int label = Label(target, k, blank);
                sum[label] = LogAdd(sum[label], alpha[t * l + k] + beta[t * l + k]);
            }
            for (int c = 0; c < classes; c++)
                grad[offset + t * stride + c] = -Math.Exp(sum[c] + nll - logProbs[offset + t * stride + c]) * scale;
        }
    }

    private static int Label(ReadOnlySpan<long> target, int k, int blank) => (k & 1) == 0 ? blank : (int)target[k >> 1];

    /// <summary>log(eᵃ + eᵇ) without overflow; −∞ is the identity.</summary>
    private static double LogAdd(double a, double b)
    {
        if (a == double.NegativeInfinity) return b;
        if (b == double.NegativeInfinity) return a;
        return Math.Max(a, b) + Log1pExpm1Kernels.Log1p(Math.Exp(-Math.Abs(a - b)));
    }
}
