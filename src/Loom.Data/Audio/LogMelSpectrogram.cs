using NWaves.Filters.Fda;
using NWaves.Transforms;

namespace Loom.Data;

/// <summary>
/// Settings of log-mel features: frames of <see cref="WindowLength"/> samples every <see cref="Hop"/> samples, a
/// periodic Hann window, the power spectrum of a <see cref="FftSize"/>-point FFT, <see cref="Mels"/> triangular filters
/// spaced evenly on the HTK mel scale between <see cref="LowHz"/> and <see cref="HighHz"/>, and the natural log.
/// </summary>
/// <remarks>The defaults are the usual speech front end at telephone quality: 25 ms windows, 10 ms hops, 40 bands at 8 kHz.</remarks>
public sealed record MelOptions
{
    public int SampleRate { get; init; } = 8000;

    public int WindowLength { get; init; } = 200;

    public int Hop { get; init; } = 80;

    public int FftSize { get; init; } = 256;

    public int Mels { get; init; } = 40;

    public double LowHz { get; init; } = 60;

    public double HighHz { get; init; } = 3800;

    /// <summary>Added to the filter energies before the log, so that digital silence stays finite.</summary>
    public double Floor { get; init; } = 1e-6;

    public void Validate()
    {
        if (SampleRate <= 0) throw new ArgumentException($"the sample rate must be positive, got {SampleRate}");
        if (WindowLength <= 0 || Hop <= 0) throw new ArgumentException($"window length and hop must be positive, got {WindowLength} and {Hop}");
        if (FftSize < WindowLength || (FftSize & (FftSize - 1)) != 0) throw new ArgumentException($"the FFT size must be a power of two of at least the window length ({WindowLength}), got {FftSize}");
        if (Mels < 1) throw new ArgumentException($"the number of mel bands must be at least 1, got {Mels}");
        if (!(LowHz >= 0 && LowHz < HighHz && HighHz <= SampleRate / 2.0))
            throw new ArgumentException($"mel bands need 0 <= low < high <= the Nyquist frequency ({SampleRate / 2} Hz), got {LowHz}..{HighHz} Hz");
        if (!(Floor > 0)) throw new ArgumentException($"the log floor must be positive, got {Floor}");
    }

    /// <summary>Frames of a clip of <paramref name="samples"/> samples: one per full window (a clip shorter than one window makes one zero-padded frame).</summary>
    public int Frames(int samples) => samples <= WindowLength ? 1 : 1 + (samples - WindowLength) / Hop;
}

/// <summary>
/// Log-mel spectrogram and MFCC of mono audio, as [bands, frames] in row-major order (one row per band, so a model sees
/// it as a one-channel image of frequency × time). The FFT and the mel filter bank are NWaves' (MIT), the library the
/// .NET audio community uses; framing, window, log and DCT are here. Not thread-safe: it reuses its buffers, so use one
/// per thread.
/// </summary>
public sealed class LogMelSpectrogram
{
    private readonly RealFft _fft;
    private readonly float[] _window, _frame, _spectrum;

    public LogMelSpectrogram(MelOptions? options = null)
    {
        Options = options ?? new MelOptions();
        Options.Validate();
        _fft = new RealFft(Options.FftSize);
        var bands = FilterBanks.MelBands(Options.Mels, Options.SampleRate, Options.LowHz, Options.HighHz);
        FilterBank = FilterBanks.Triangular(Options.FftSize, Options.SampleRate, bands);
        // Periodic Hann, as torch.hann_window and librosa use for spectra.
        _window = new float[Options.WindowLength];
        for (int i = 0; i < _window.Length; i++) _window[i] = (float)(0.5 - 0.5 * Math.Cos(2 * Math.PI * i / _window.Length));
        _frame = new float[Options.FftSize];
        _spectrum = new float[Options.FftSize / 2 + 1];
    }

    public MelOptions Options { get; }

    /// <summary>The triangular filters, one row of FftSize/2 + 1 weights per band.</summary>
    public float[][] FilterBank { get; }

    /// <summary>Log mel energies [Mels, frames] of <paramref name="samples"/> (at <see cref="MelOptions.SampleRate"/>).</summary>
    public float[] Compute(ReadOnlySpan<float> samples)
    {
        int frames = Options.Frames(samples.Length), mels = Options.Mels;
        var output = new float[mels * frames];
        Compute(samples, output);
        return output;
    }

    /// <summary>Writes log mel energies [Mels, frames] into <paramref name="output"/>, which must hold Mels · frames values.</summary>
    public void Compute(ReadOnlySpan<float> samples, Span<float> output)
    {
        int frames = Options.Frames(samples.Length), mels = Options.Mels, window = Options.WindowLength, hop = Options.Hop;
        if (output.Length != mels * frames) throw new ArgumentException($"the output must hold {mels} × {frames} values, got {output.Length}");
        for (int t = 0; t < frames; t++)
        {
            Array.Clear(_frame);
            int start = t * hop, count = Math.Min(window, samples.Length - start);
            for (int i = 0; i < count; i++) _frame[i] = samples[start + i] * _window[i];
            // Unnormalised power |X_k|², k = 0..FftSize/2.
            _fft.PowerSpectrum(_frame, _spectrum, normalize: false);
            for (int m = 0; m < mels; m++)
            {
                var filter = FilterBank[m];
                double energy = 0;
                for (int k = 0; k < _spectrum.Length; k++) energy += filter[k] * _spectrum[k];
                output[m * frames + t] = (float)Math.Log(energy + Options.Floor);
            }
        }
    }

    /// <summary>
    /// MFCC [<paramref name="coefficients"/>, frames]: the orthonormal DCT-II of each frame's log mel energies, first
    /// <paramref name="coefficients"/> kept.
    /// </summary>
    public float[] Mfcc(ReadOnlySpan<float> samples, int coefficients = 13)
    {
        int mels = Options.Mels;
        if (coefficients < 1 || coefficients > mels) throw new ArgumentException($"MFCC keeps between 1 and {mels} (the mel bands) coefficients, got {coefficients}");
        var logMel = Compute(samples);
        int frames = logMel.Length / mels;
        var output = new float[coefficients * frames];
        for (int k = 0; k < coefficients; k++)
        {
            double scale = Math.Sqrt((k == 0 ? 1.0 : 2.0) / mels);
            for (int t = 0; t < frames; t++)
            {
                double sum = 0;
                for (int m = 0; m < mels; m++) sum += logMel[m * frames + t] * Math.Cos(Math.PI * k * (m + 0.5) / mels);
                output[k * frames + t] = (float)(scale * sum);
            }
        }
        return output;
    }

    /// <summary>
    /// Per-utterance normalisation of features [bands, frames] in place: each band's mean over the clip is removed
    /// (cepstral mean normalisation: a fixed channel — a telephone line, a microphone — is a constant offset per band in
    /// the log domain), then everything is divided by the clip's standard deviation, so loudness does not matter.
    /// </summary>
    public static void Normalize(Span<float> features, int bands)
    {
        if (bands < 1 || features.Length % bands != 0) throw new ArgumentException($"features of {features.Length} values do not split into {bands} bands");
        int frames = features.Length / bands;
        double total = 0;
        for (int b = 0; b < bands; b++)
        {
            var row = features.Slice(b * frames, frames);
            double mean = 0;
            foreach (var v in row) mean += v;
            mean /= frames;
            for (int t = 0; t < frames; t++)
            {
                row[t] -= (float)mean;
                total += row[t] * (double)row[t];
            }
        }
        float scale = (float)(1 / Math.Sqrt(total / features.Length + 1e-8));
        foreach (ref var v in features) v *= scale;
    }
}
