namespace Loom.Compress;

/// <summary>How static quantisation chooses each activation's range from the calibration data.</summary>
public enum CalibrationMethod
{
    /// <summary>The observed minimum and maximum: nothing clips, outliers cost resolution.</summary>
    MinMax,

    /// <summary>The 0.01st and 99.99th percentiles: the rare extremes clip, the bulk gets finer steps.</summary>
    Percentile,

    /// <summary>
    /// The threshold whose quantised distribution is closest to the observed one in KL divergence (TensorRT's entropy
    /// calibration, Migacz 2017), searched over a histogram of |x|.
    /// </summary>
    Entropy,
}

/// <summary>
/// Collects one activation's statistics over the calibration batches and turns them into quantisation parameters.
/// Two passes for the histogram methods: the first finds the range (<see cref="ObserveRange"/>), the second fills a
/// histogram of <see cref="Bins"/> bins of |x| over it (<see cref="ObserveHistogram"/>).
/// </summary>
public sealed class ActivationObserver(CalibrationMethod method)
{
    /// <summary>Histogram bins (TensorRT's and PyTorch's choice).</summary>
    public const int Bins = 2048;

    /// <summary>The percentile kept by <see cref="CalibrationMethod.Percentile"/> at each end.</summary>
    public const double Percentile = 99.99;

    private readonly long[] _histogram = new long[Bins];
    private long _count;
    private bool _histogramPass;

    public CalibrationMethod Method => method;
    public float Min { get; private set; } = float.PositiveInfinity;
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>Whether the method needs <see cref="ObserveHistogram"/> after the range pass.</summary>
    public bool NeedsHistogram => method != CalibrationMethod.MinMax;

    private float MaxAbs => MathF.Max(MathF.Abs(Min), MathF.Abs(Max));

    public void ObserveRange(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return;
        float lo = TensorPrimitives.Min(x), hi = TensorPrimitives.Max(x);
        if (!float.IsFinite(lo) || !float.IsFinite(hi)) throw new ArgumentException("calibration: an activation is not finite (NaN or infinity)");
        Min = MathF.Min(Min, lo);
        Max = MathF.Max(Max, hi);
    }

    /// <summary>
    /// Adds x to the histogram of |x|. Exact zeros are left out: every range holds 0 exactly, so they say nothing about
    /// where to cut, and after a ReLU they are half the values — counted, they pile into bin 0, and the entropy search,
    /// which matches P best at the smallest cuts (one bin per level), would clip far too much of the real tail.
    /// </summary>
    public void ObserveHistogram(ReadOnlySpan<float> x)
    {
        _histogramPass = true;
        float maxAbs = MaxAbs;
        if (!(maxAbs > 0)) return;
        float perBin = Bins / maxAbs;
        foreach (float v in x)
        {
            if (v == 0) continue;
            _histogram[Math.Min(Bins - 1, (int)(MathF.Abs(v) * perBin))]++;
            _count++;
        }
    }

    /// <summary>The parameters for the range the method chooses (always widened to hold 0).</summary>
    public QuantParams Params()
    {
        if (float.IsPositiveInfinity(Min)) throw new InvalidOperationException("calibration: no activation was observed");
        float threshold = method switch
        {
            CalibrationMethod.MinMax => MaxAbs,
            CalibrationMethod.Percentile => PercentileThreshold(),
            _ => EntropyThreshold(),
        };
        return Int8Quantization.ActivationParams(MathF.Max(Min, -threshold), MathF.Min(Max, threshold));
    }

    /// <summary>The magnitude below which <see cref="Percentile"/> % of the non-zero values lie (histogram resolution).</summary>
    private float PercentileThreshold()
    {
        CheckHistogram();
        if (_count == 0) return MaxAbs;
        long keep = (long)Math.Ceiling(_count * Percentile / 100), seen = 0;
        for (int b = 0; b < Bins; b++)
        {
            seen += _histogram[b];
            if (seen >= keep) return (b + 1) * MaxAbs / Bins;
        }
        return MaxAbs;
    }

    /// <summary>
    /// For every cut i from the number of levels to <see cref="Bins"/>: P is the histogram up to i with everything
    /// beyond added to its last bin, Q the first i bins merged into the levels the quantised range has and spread back
    /// over their non-empty bins; the cut with the least KL(P ‖ Q) is the threshold. One-sided data (all ≥ 0 or all ≤
    /// 0) has all 128 levels on its side; two-sided data about half.
    /// </summary>
    public float EntropyThreshold()
    {
        CheckHistogram();
        if (_count == 0) return MaxAbs;
        int levels = Min >= 0 || Max <= 0 ? Int8Gemm.ActivationMax + 1 : (Int8Gemm.ActivationMax + 1) / 2;
        double total = _count;
        var p = new double[Bins];
        var q = new double[Bins];
        double bestKl = double.PositiveInfinity;
        int bestCut = Bins;
        long outliers = 0;
        for (int b = levels; b < Bins; b++) outliers += _histogram[b];
        for (int cut = levels; cut <= Bins; cut++)
        {
            for (int b = 0; b < cut; b++) p[b] = _histogram[b];
            p[cut - 1] += outliers;
            if (cut < Bins) outliers -= _histogram[cut];
            // Q: the cut bins merged into `levels` groups, each group's mass spread evenly over its non-empty bins.
            for (int level = 0; level < levels; level++)
            {
                int start = (int)((long)level * cut / levels), end = (int)((long)(level + 1) * cut / levels);
                double mass = 0;
                int nonEmpty = 0;
                for (int b = start; b < end; b++)
                {
                    mass += _histogram[b];
                    if (_histogram[b] != 0) nonEmpty++;
                }
                for (int b = start; b < end; b++) q[b] = _histogram[b] != 0 ? mass / nonEmpty : 0;
            }
            double kl = 0, qTotal = 0;
            for (int b = 0; b < cut; b++) qTotal += q[b];
            if (qTotal == 0) continue;
            for (int b = 0; b < cut; b++)
            {
                if (p[b] == 0) continue;
                double pb = p[b] / total;
                // The outliers piled onto the last bin can meet an empty Q bin: smooth it, as TensorRT does.
                double qb = Math.Max(q[b] / qTotal, 1e-12);
                kl += pb * Math.Log(pb / qb);
            }
            if (kl < bestKl) (bestKl, bestCut) = (kl, cut);
        }
        return bestCut * MaxAbs / Bins;
    }

    private void CheckHistogram()
    {
        if (!_histogramPass) throw new InvalidOperationException($"calibration: {method} needs the histogram pass (ObserveHistogram) after the range pass");
    }
}
