namespace Loom.Models;

/// <summary>
/// A clip of any length and rate → the model's input: mono, resampled to the run's rate (which band-limits synthetic
/// audio to telephone quality at 8 kHz), fitted to one second around its loudest part, log-mel features normalised per
/// utterance. With a random source, the training augmentations come in between: speed and pitch perturbation, a time
/// shift, background noise at a random SNR, and SpecAugment masks on the features.
/// </summary>
public sealed class SpeechFeatures
{
    private readonly ThreadLocal<LogMelSpectrogram> _mel;

    public SpeechFeatures(KeywordSpottingOptions options)
    {
        Options = options;
        var mel = options.MelOptions();
        _mel = new ThreadLocal<LogMelSpectrogram>(() => new LogMelSpectrogram(mel));
        Frames = mel.Frames(ClipSamples);
    }

    public KeywordSpottingOptions Options { get; }

    /// <summary>Samples of one clip: one second.</summary>
    public int ClipSamples => Options.SampleRate;

    public int Bands => Options.Mels;

    public int Frames { get; }

    /// <summary>Values of one feature map, Bands × Frames.</summary>
    public int Size => Bands * Frames;

    /// <summary><paramref name="audio"/> at the run's rate, mono.</summary>
    public float[] Resample(Waveform audio) => Resampler.Resample(audio.Mono(), audio.SampleRate, Options.SampleRate);

    /// <summary>
    /// Features of a clip at the run's rate into <paramref name="output"/> (<see cref="Size"/> values). With
    /// <paramref name="random"/>, augmented.
    /// </summary>
    public void Compute(float[] samples, Span<float> output, System.Random? random = null)
    {
        if (random is not null)
        {
            samples = AudioAugment.Speed(samples, 0.85 + 0.3 * random.NextDouble());
            if (random.Next(2) == 0) samples = AudioAugment.Pitch(samples, Options.SampleRate, random.NextDouble() * 6 - 3);
        }
        var clip = Fit(samples, random);
        if (random is not null && random.Next(4) != 0)
        {
            var noise = Noise.Make(Noise.Kinds[1 + random.Next(Noise.Kinds.Count - 1)], Options.SampleRate, random, 0.1);
            clip = AudioAugment.AddNoise(clip, noise, 5 + 25 * random.NextDouble());
        }
        var mel = _mel.Value!;
        mel.Compute(clip, output);
        LogMelSpectrogram.Normalize(output, Bands);
        if (random is not null) AudioAugment.SpecAugment(output, Bands, random, frequencyMasks: 1, maxBands: Bands / 8, timeMasks: 1, maxFrames: Frames / 10);
    }

    /// <summary>
    /// One second of <paramref name="samples"/>: a longer clip is cut to the second holding the most energy, a shorter
    /// one padded with silence around it — centred, or, with <paramref name="random"/>, at a random place that keeps it whole.
    /// </summary>
    public float[] Fit(float[] samples, System.Random? random = null)
    {
        int n = ClipSamples;
        if (samples.Length >= n)
        {
            // The window of n samples with the most energy (prefix sums of squares).
            var prefix = new double[samples.Length + 1];
            for (int i = 0; i < samples.Length; i++) prefix[i + 1] = prefix[i] + samples[i] * (double)samples[i];
            int best = 0;
            for (int s = 1; s + n <= samples.Length; s++) if (prefix[s + n] - prefix[s] > prefix[best + n] - prefix[best]) best = s;
            return samples.AsSpan(best, n).ToArray();
        }
        int room = n - samples.Length;
        int offset = random is null ? room / 2 : random.Next(room + 1);
        var output = new float[n];
        samples.CopyTo(output, offset);
        return output;
    }
}
