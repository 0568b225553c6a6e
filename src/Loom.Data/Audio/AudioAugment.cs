using NWaves.Operations;
using NWaves.Operations.Tsm;
using NWaves.Signals;

namespace Loom.Data;

/// <summary>
/// Augmentations of speech for training: on the waveform, time shift, speed and pitch perturbation and background
/// noise at a chosen signal-to-noise ratio; on features [bands, frames], SpecAugment's frequency and time masks. Each
/// returns a new array (masks work in place) and draws only from the <see cref="System.Random"/> it is given, so a seed
/// reproduces the data.
/// </summary>
public static class AudioAugment
{
    /// <summary>
    /// The clip moved by <paramref name="shift"/> samples (later when positive), the same length, zeros shifted in.
    /// </summary>
    public static float[] TimeShift(ReadOnlySpan<float> samples, int shift)
    {
        var output = new float[samples.Length];
        int n = samples.Length;
        if (Math.Abs((long)shift) >= n) return output;
        if (shift >= 0) samples[..(n - shift)].CopyTo(output.AsSpan(shift));
        else samples[-shift..].CopyTo(output);
        return output;
    }

    /// <summary>
    /// The clip played <paramref name="factor"/> times as fast, tempo and pitch together (as a tape would): 1.1 is 10%
    /// shorter and higher. Kaldi's speed perturbation uses 0.9, 1.0 and 1.1.
    /// </summary>
    public static float[] Speed(ReadOnlySpan<float> samples, double factor)
    {
        if (!(factor > 0)) throw new ArgumentException($"the speed factor must be positive, got {factor}");
        return Resampler.Resample(samples, 1 / factor);
    }

    /// <summary>
    /// The clip <paramref name="semitones"/> higher at the same tempo: sped up by the pitch ratio (which raises pitch and
    /// shortens it), then stretched back to its length by WSOLA (NWaves), which keeps pitch.
    /// </summary>
    public static float[] Pitch(ReadOnlySpan<float> samples, int sampleRate, double semitones)
    {
        if (semitones == 0 || samples.Length == 0) return samples.ToArray();
        double ratio = Math.Pow(2, semitones / 12);
        var faster = Speed(samples, ratio);
        var stretched = Operation.TimeStretch(new DiscreteSignal(sampleRate, faster), ratio, TsmAlgorithm.Wsola).Samples;
        // WSOLA lands within a frame of the target length; fit it exactly.
        var output = new float[samples.Length];
        stretched.AsSpan(0, Math.Min(stretched.Length, output.Length)).CopyTo(output);
        return output;
    }

    /// <summary>
    /// <paramref name="samples"/> plus <paramref name="noise"/> (repeated or cut to length) scaled so that the
    /// signal-to-noise power ratio is <paramref name="snrDb"/> decibels. Silent samples get the noise unscaled.
    /// </summary>
    public static float[] AddNoise(ReadOnlySpan<float> samples, ReadOnlySpan<float> noise, double snrDb)
    {
        if (noise.Length == 0) throw new ArgumentException("the noise is empty");
        double signalPower = Power(samples), noisePower = 0;
        for (int i = 0; i < samples.Length; i++) noisePower += noise[i % noise.Length] * (double)noise[i % noise.Length];
        noisePower /= Math.Max(1, samples.Length);
        double gain = signalPower > 0 && noisePower > 0 ? Math.Sqrt(signalPower / (noisePower * Math.Pow(10, snrDb / 10))) : 1;
        var output = new float[samples.Length];
        for (int i = 0; i < output.Length; i++) output[i] = (float)(samples[i] + gain * noise[i % noise.Length]);
        return output;
    }

    /// <summary>Mean power (mean square) of the samples.</summary>
    public static double Power(ReadOnlySpan<float> samples)
    {
        double sum = 0;
        foreach (var v in samples) sum += v * (double)v;
        return samples.Length == 0 ? 0 : sum / samples.Length;
    }

    /// <summary>
    /// SpecAugment (Park et al., 2019) in place on features [bands, frames]: <paramref name="frequencyMasks"/> bands of
    /// up to <paramref name="maxBands"/> rows and <paramref name="timeMasks"/> spans of up to <paramref name="maxFrames"/>
    /// columns set to <paramref name="value"/> (0, the mean of normalised features).
    /// </summary>
    public static void SpecAugment(Span<float> features, int bands, System.Random random, int frequencyMasks = 2, int maxBands = 6,
        int timeMasks = 2, int maxFrames = 10, float value = 0)
    {
        if (bands < 1 || features.Length % bands != 0) throw new ArgumentException($"features of {features.Length} values do not split into {bands} bands");
        int frames = features.Length / bands;
        for (int i = 0; i < frequencyMasks; i++)
        {
            int width = random.Next(0, Math.Min(maxBands, bands) + 1), start = random.Next(0, bands - width + 1);
            features.Slice(start * frames, width * frames).Fill(value);
        }
        for (int i = 0; i < timeMasks; i++)
        {
            int width = random.Next(0, Math.Min(maxFrames, frames) + 1), start = random.Next(0, frames - width + 1);
            for (int b = 0; b < bands; b++) features.Slice(b * frames + start, width).Fill(value);
        }
    }
}
