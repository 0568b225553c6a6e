namespace Loom.Data;

/// <summary>
/// Band-limited resampling by any ratio: each output sample is the input convolved with a Hann-windowed sinc whose
/// cutoff is the lower of the two Nyquist frequencies (a little below, so the window's transition band does not fold
/// back), so downsampling removes what the new rate cannot hold instead of aliasing it into the band.
/// </summary>
public static class Resampler
{
    // Zero crossings of the sinc on each side: 16 keeps the stop band ~60 dB down, ample for speech features.
    private const int ZeroCrossings = 16;
    // The kernel is tabulated at this many points per input sample and read by linear interpolation, which costs a
    // multiply-add where evaluating sin and cos per tap would dominate.
    private const int TableResolution = 512;
    private const double Rolloff = 0.94;

    /// <summary><paramref name="samples"/> at <paramref name="fromRate"/> → the same sound at <paramref name="toRate"/>.</summary>
    public static float[] Resample(ReadOnlySpan<float> samples, int fromRate, int toRate)
    {
        if (fromRate <= 0 || toRate <= 0) throw new ArgumentException($"sample rates must be positive, got {fromRate} → {toRate}");
        return fromRate == toRate ? samples.ToArray() : Resample(samples, (double)toRate / fromRate);
    }

    /// <summary>
    /// <paramref name="ratio"/> output samples per input sample (the output has round(n · ratio) samples). Played at the
    /// input's rate, a ratio below 1 is the sound sped up (and pitched up) by 1/ratio.
    /// </summary>
    public static float[] Resample(ReadOnlySpan<float> samples, double ratio)
    {
        if (!(ratio > 0) || double.IsInfinity(ratio)) throw new ArgumentException($"the resampling ratio must be positive and finite, got {ratio}");
        int n = samples.Length, m = (int)Math.Round(n * ratio);
        var output = new float[m];
        if (n == 0) return output;
        // Cutoff in cycles per input sample; the kernel is wider (in input samples) when it must cut lower.
        double cutoff = 0.5 * Math.Min(1, ratio) * Rolloff;
        double halfWidth = ZeroCrossings / (2 * cutoff);
        var table = Kernel(cutoff, halfWidth);
        double step = 1 / ratio;
        for (int j = 0; j < m; j++)
        {
            double t = j * step;
            int first = Math.Max(0, (int)Math.Ceiling(t - halfWidth)), last = Math.Min(n - 1, (int)Math.Floor(t + halfWidth));
            double sum = 0;
            for (int i = first; i <= last; i++)
            {
                double position = Math.Abs(i - t) * TableResolution;
                int k = (int)position;
                if (k + 1 >= table.Length) continue;
                double frac = position - k;
                sum += samples[i] * (table[k] + frac * (table[k + 1] - table[k]));
            }
            output[j] = (float)sum;
        }
        return output;
    }

    // h(x) = 2·cutoff·sinc(2·cutoff·x) · hann(x / halfWidth) at x = i / TableResolution, for x in [0, halfWidth].
    private static double[] Kernel(double cutoff, double halfWidth)
    {
        int size = (int)Math.Ceiling(halfWidth * TableResolution) + 2;
        var table = new double[size];
        for (int i = 0; i < size; i++)
        {
            double x = (double)i / TableResolution;
            if (x > halfWidth) break;
            double a = 2 * Math.PI * cutoff * x;
            double sinc = x == 0 ? 1 : Math.Sin(a) / a;
            double window = 0.5 + 0.5 * Math.Cos(Math.PI * x / halfWidth);
            table[i] = 2 * cutoff * sinc * window;
        }
        return table;
    }
}
