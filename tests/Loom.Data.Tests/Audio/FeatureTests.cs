namespace Loom.Data.Tests.Audio;

public class FeatureTests
{
    private static float[] Tone(double hz, int rate, int n, double amplitude = 0.5) =>
        [.. Enumerable.Range(0, n).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * hz * i / rate)))];

    private static float[] RandomSignal(int n, int seed)
    {
        var random = new System.Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }

    [Fact]
    public void Log_mel_matches_a_direct_DFT_of_each_Hann_windowed_frame_through_the_filter_bank()
    {
        var options = new MelOptions { SampleRate = 16000, WindowLength = 400, Hop = 160, FftSize = 512, Mels = 40, LowHz = 20, HighHz = 7600 };
        var mel = new LogMelSpectrogram(options);
        var x = RandomSignal(2000, 1);
        var features = mel.Compute(x);
        int frames = options.Frames(x.Length);
        Assert.Equal(1 + (2000 - 400) / 160, frames);
        Assert.Equal(40 * frames, features.Length);
        for (int t = 0; t < frames; t++)
        {
            // Reference in float64: periodic Hann, zero-padded to 512, |DFT|² for k = 0..256 by the definition.
            var power = new double[257];
            for (int k = 0; k <= 256; k++)
            {
                double re = 0, im = 0;
                for (int i = 0; i < 400; i++)
                {
                    double v = x[t * 160 + i] * (0.5 - 0.5 * Math.Cos(2 * Math.PI * i / 400));
                    re += v * Math.Cos(2 * Math.PI * k * i / 512);
                    im -= v * Math.Sin(2 * Math.PI * k * i / 512);
                }
                power[k] = re * re + im * im;
            }
            for (int m = 0; m < 40; m++)
            {
                double energy = 0;
                for (int k = 0; k <= 256; k++) energy += mel.FilterBank[m][k] * power[k];
                Assert.Equal(Math.Log(energy + options.Floor), features[m * frames + t], 3e-4);
            }
        }
    }

    [Theory]
    [InlineData(300)]
    [InlineData(1000)]
    [InlineData(2500)]
    public void A_tone_peaks_in_the_band_centred_nearest_it_on_the_HTK_mel_scale(double hz)
    {
        var options = new MelOptions();
        var mel = new LogMelSpectrogram(options);
        var features = mel.Compute(Tone(hz, options.SampleRate, 8000));
        int frames = options.Frames(8000);
        int best = Enumerable.Range(0, options.Mels).MaxBy(m => features[m * frames + frames / 2]);
        // Band centres: Mels + 2 points evenly spaced in mel = 2595 log10(1 + f/700) from low to high, without the ends.
        static double Mel(double f) => 2595 * Math.Log10(1 + f / 700);
        double low = Mel(options.LowHz), high = Mel(options.HighHz);
        var centres = Enumerable.Range(1, options.Mels).Select(i => 700 * (Math.Pow(10, (low + i * (high - low) / (options.Mels + 1)) / 2595) - 1)).ToArray();
        int nearest = Enumerable.Range(0, options.Mels).MinBy(m => Math.Abs(centres[m] - hz));
        Assert.InRange(best, nearest - 1, nearest + 1);
        foreach (var filter in mel.FilterBank) Assert.True(filter.Max() <= 1.0001f && filter.Min() >= 0);
    }

    [Fact]
    public void Mfcc_is_the_orthonormal_DCT_II_of_the_log_mel_frames()
    {
        var mel = new LogMelSpectrogram();
        var x = RandomSignal(4000, 2);
        var logMel = mel.Compute(x);
        var mfcc = mel.Mfcc(x, 13);
        int frames = logMel.Length / 40;
        Assert.Equal(13 * frames, mfcc.Length);
        for (int t = 0; t < frames; t += 7)
            for (int k = 0; k < 13; k++)
            {
                double sum = 0;
                for (int m = 0; m < 40; m++) sum += logMel[m * frames + t] * Math.Cos(Math.PI * k * (2 * m + 1) / 80);
                Assert.Equal(sum * Math.Sqrt((k == 0 ? 1.0 : 2.0) / 40), mfcc[k * frames + t], 1e-3);
            }
    }

    [Fact]
    public void Normalisation_removes_a_fixed_channel_gain_per_band_and_the_loudness()
    {
        var mel = new LogMelSpectrogram();
        var x = RandomSignal(8000, 3);
        var a = mel.Compute(x);
        // A channel that scales each band by its own gain is a constant per band in the log domain.
        int frames = a.Length / 40;
        var b = a.Select((v, i) => v + (float)Math.Log(0.1 + (i / frames) * 0.05)).ToArray();
        LogMelSpectrogram.Normalize(a, 40);
        LogMelSpectrogram.Normalize(b, 40);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-4);
        for (int m = 0; m < 40; m++) Assert.Equal(0, a.AsSpan(m * frames, frames).ToArray().Average(), 1e-5);
        Assert.Equal(1, Math.Sqrt(a.Select(v => (double)v * v).Average()), 1e-4);
    }

    [Theory]
    [InlineData(44100, 16000, 440)]
    [InlineData(22050, 8000, 1000)]
    [InlineData(8000, 16000, 1000)]
    [InlineData(48000, 44100, 3000)]
    public void Resampling_a_tone_gives_the_same_tone_at_the_new_rate(int from, int to, double hz)
    {
        var x = Tone(hz, from, from / 2);
        var y = Resampler.Resample(x, from, to);
        Assert.Equal(to / 2, y.Length);
        var expected = Tone(hz, to, to / 2);
        // Away from the ends, where the kernel runs off the signal.
        for (int i = to / 20; i < y.Length - to / 20; i++) Assert.Equal(expected[i], y[i], 2e-3);
    }

    [Fact]
    public void Downsampling_removes_what_the_new_rate_cannot_hold_instead_of_aliasing_it()
    {
        // 6 kHz is above 8 kHz audio's 4 kHz Nyquist frequency: without the low-pass it would fold to 2 kHz at full level.
        var y = Resampler.Resample(Tone(6000, 48000, 48000), 48000, 8000);
        double rms = Math.Sqrt(AudioAugment.Power(y.AsSpan(800, 6400)));
        Assert.True(rms < 0.5 / Math.Sqrt(2) * 0.01, $"alias at {20 * Math.Log10(rms / (0.5 / Math.Sqrt(2))):F1} dB");
    }

    private static double Frequency(float[] x, int rate)
    {
        int crossings = 0;
        for (int i = 1; i < x.Length; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings++;
        return crossings * (double)rate / x.Length;
    }

    [Fact]
    public void Speed_perturbation_shortens_and_raises_a_tone_together()
    {
        var y = AudioAugment.Speed(Tone(500, 16000, 16000), 1.1);
        Assert.Equal((int)Math.Round(16000 / 1.1), y.Length);
        Assert.Equal(550, Frequency(y[100..^100], 16000), 550 * 0.02);
    }

    [Fact]
    public void Pitch_perturbation_raises_a_tone_and_keeps_its_length()
    {
        var y = AudioAugment.Pitch(Tone(500, 16000, 16000), 16000, 2);
        Assert.Equal(16000, y.Length);
        double expected = 500 * Math.Pow(2, 2.0 / 12);
        Assert.Equal(expected, Frequency(y[1000..^2000], 16000), expected * 0.03);
    }

    [Fact]
    public void Time_shift_moves_samples_and_fills_zeros()
    {
        float[] x = [1, 2, 3, 4];
        Assert.Equal([0f, 0f, 1f, 2f], AudioAugment.TimeShift(x, 2));
        Assert.Equal([3f, 4f, 0f, 0f], AudioAugment.TimeShift(x, -2));
        Assert.Equal([0f, 0f, 0f, 0f], AudioAugment.TimeShift(x, 9));
    }

    [Theory]
    [InlineData(20)]
    [InlineData(0)]
    [InlineData(-5)]
    public void Noise_is_added_at_the_requested_signal_to_noise_ratio(double snr)
    {
        var x = Tone(700, 8000, 8000);
        var noise = Noise.Make("pink", 8000, new System.Random(4), 0.3);
        var y = AudioAugment.AddNoise(x, noise, snr);
        var added = y.Select((v, i) => v - x[i]).ToArray();
        Assert.Equal(snr, 10 * Math.Log10(AudioAugment.Power(x) / AudioAugment.Power(added)), 1e-3);
    }

    [Fact]
    public void SpecAugment_masks_whole_bands_and_frames_reproducibly()
    {
        var a = Enumerable.Repeat(1f, 40 * 98).ToArray();
        var b = a.ToArray();
        AudioAugment.SpecAugment(a, 40, new System.Random(5), frequencyMasks: 1, maxBands: 6, timeMasks: 1, maxFrames: 10);
        AudioAugment.SpecAugment(b, 40, new System.Random(5), frequencyMasks: 1, maxBands: 6, timeMasks: 1, maxFrames: 10);
        Assert.Equal(a, b);
        var maskedBands = Enumerable.Range(0, 40).Where(m => a.AsSpan(m * 98, 98).ToArray().All(v => v == 0)).Count();
        var maskedFrames = Enumerable.Range(0, 98).Where(t => Enumerable.Range(0, 40).All(m => a[m * 98 + t] == 0)).Count();
        Assert.InRange(maskedBands, 0, 6);
        Assert.InRange(maskedFrames, 0, 10);
        // Every zero lies in a masked band or frame.
        for (int m = 0; m < 40; m++)
            for (int t = 0; t < 98; t++)
                if (a[m * 98 + t] == 0) Assert.True(a.AsSpan(m * 98, 98).ToArray().All(v => v == 0) || Enumerable.Range(0, 40).All(k => a[k * 98 + t] == 0));
    }
}
