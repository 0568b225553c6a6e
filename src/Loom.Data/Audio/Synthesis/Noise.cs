namespace Loom.Data;

/// <summary>
/// Background noises made from random numbers, one second long: white (flat spectrum), pink (1/f, Paul Kellet's
/// filter), brown (1/f², integrated white noise), mains hum (50 or 60 Hz and harmonics over faint noise) and near-silence.
/// Used for the silence class of generated datasets and as background noise when training.
/// </summary>
public static class Noise
{
    public static IReadOnlyList<string> Kinds { get; } = ["quiet", "white", "pink", "brown", "hum"];

    /// <summary>One second of <paramref name="kind"/> noise at <paramref name="sampleRate"/>, scaled to RMS <paramref name="rms"/>.</summary>
    public static float[] Make(string kind, int sampleRate, System.Random random, double rms, double seconds = 1)
    {
        int n = (int)Math.Round(sampleRate * seconds);
        var x = new float[n];
        double b0 = 0, b1 = 0, b2 = 0, brown = 0;
        double hz = random.Next(2) == 0 ? 50 : 60, phase = random.NextDouble() * 2 * Math.PI;
        for (int i = 0; i < n; i++)
        {
            double white = Gaussian(random);
            x[i] = (float)(kind switch
            {
                "pink" => PinkStep(white, ref b0, ref b1, ref b2),
                "brown" => brown = 0.98 * brown + 0.2 * white,
                "hum" => Math.Sin(2 * Math.PI * hz * i / sampleRate + phase) + 0.5 * Math.Sin(4 * Math.PI * hz * i / sampleRate) + 0.3 * Math.Sin(6 * Math.PI * hz * i / sampleRate) + 0.1 * white,
                "white" or "quiet" => white,
                _ => throw new ArgumentException($"unknown noise '{kind}'; choose from {string.Join(", ", Kinds)}"),
            });
        }
        double power = AudioAugment.Power(x);
        float scale = power > 0 ? (float)(rms / Math.Sqrt(power)) : 0;
        for (int i = 0; i < n; i++) x[i] *= scale;
        return x;
    }

    private static double PinkStep(double white, ref double b0, ref double b1, ref double b2)
    {
        b0 = 0.99765 * b0 + white * 0.0990460;
        b1 = 0.96300 * b1 + white * 0.2965164;
        b2 = 0.57000 * b2 + white * 1.0526913;
        return b0 + b1 + b2 + white * 0.1848;
    }

    private static double Gaussian(System.Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
