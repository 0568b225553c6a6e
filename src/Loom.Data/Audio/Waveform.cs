namespace Loom.Data;

/// <summary>
/// Audio as samples in [-1, 1]: one array per channel, all of the same length, at <see cref="SampleRate"/> samples per
/// second. <see cref="WavFile"/> reads and writes it; features (<see cref="LogMelSpectrogram"/>) take one channel.
/// </summary>
public sealed class Waveform
{
    public Waveform(float[][] channels, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Length == 0) throw new ArgumentException("a waveform needs at least one channel");
        if (channels.Any(c => c.Length != channels[0].Length)) throw new ArgumentException("every channel of a waveform must have the same length");
        if (sampleRate <= 0) throw new ArgumentException($"the sample rate must be positive, got {sampleRate}");
        (Channels, SampleRate) = (channels, sampleRate);
    }

    /// <summary>One channel.</summary>
    public Waveform(float[] samples, int sampleRate) : this([samples], sampleRate) { }

    public float[][] Channels { get; }

    public int SampleRate { get; }

    /// <summary>Samples per channel.</summary>
    public int Length => Channels[0].Length;

    public double Seconds => (double)Length / SampleRate;

    /// <summary>The channels averaged into one (the only channel itself for mono audio, not a copy).</summary>
    public float[] Mono()
    {
        if (Channels.Length == 1) return Channels[0];
        var mono = new float[Length];
        foreach (var channel in Channels)
            for (int i = 0; i < mono.Length; i++) mono[i] += channel[i];
        float scale = 1f / Channels.Length;
        for (int i = 0; i < mono.Length; i++) mono[i] *= scale;
        return mono;
    }
}
