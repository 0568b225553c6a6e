namespace Loom.Models;

/// <summary>The options of <see cref="KeywordSpottingTask"/>, stored in config.json beside the shared ones.</summary>
public sealed record KeywordSpottingOptions
{
    /// <summary>The rate every clip is resampled to before features: 8 kHz, telephone quality, by default.</summary>
    public int SampleRate { get; init; } = 8000;

    /// <summary>Mel bands of the log-mel features.</summary>
    public int Mels { get; init; } = 40;

    /// <summary>Augmented copies of each training clip added to it (speed, pitch, shift, noise, SpecAugment); 0 trains on the clean clips only.</summary>
    public int AugmentCopies { get; init; } = 2;

    private static readonly KeywordSpottingOptions Defaults = new();

    public static IReadOnlyList<TaskOption> Declared { get; } =
    [
        TaskOption.Integer("--sample-rate", "sample_rate", "audio is resampled to this rate before features (8000: telephone quality)", Defaults.SampleRate),
        TaskOption.Integer("--mels", "mels", "mel bands of the log-mel features", Defaults.Mels),
        TaskOption.Integer("--augment-copies", "augment_copies", "augmented copies of each training clip (speed, pitch, shift, noise, SpecAugment)", Defaults.AugmentCopies),
    ];

    public void Validate()
    {
        if (SampleRate is < 4000 or > 48000) throw new ArgumentException($"--sample-rate must be between 4000 and 48000, got {SampleRate}");
        if (Mels is < 8 or > 128) throw new ArgumentException($"--mels must be between 8 and 128, got {Mels}");
        if (AugmentCopies is < 0 or > 20) throw new ArgumentException($"--augment-copies must be between 0 and 20, got {AugmentCopies}");
    }

    /// <summary>The feature settings: 25 ms windows every 10 ms, bands up to just below the Nyquist frequency.</summary>
    public Loom.Data.MelOptions MelOptions()
    {
        int window = SampleRate / 40, fft = 1;
        while (fft < window) fft *= 2;
        return new Loom.Data.MelOptions
        {
            SampleRate = SampleRate, WindowLength = window, Hop = SampleRate / 100, FftSize = fft, Mels = Mels,
            LowHz = 60, HighHz = SampleRate / 2.0 * 0.95,
        };
    }
}
