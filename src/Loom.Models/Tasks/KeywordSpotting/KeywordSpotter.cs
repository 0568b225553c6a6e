using Loom.Memory;

namespace Loom.Models;

/// <summary>A word heard in a recording: from <see cref="Start"/> to <see cref="End"/> seconds, with the model's probability.</summary>
public sealed record HeardWord(string Word, double Start, double End, double Probability);

/// <summary>
/// A trained keyword-spotting run ready for audio (`loom predict RUN file.wav`, `loom listen`, `loom speech-translate`):
/// the model, its classes and its feature settings, read from the run folder without its training data.
/// </summary>
public sealed class KeywordSpotter
{
    private readonly Module<Tensor, Tensor> _model;

    public KeywordSpotter(Module<Tensor, Tensor> model, IReadOnlyList<string> classes, KeywordSpottingOptions options)
    {
        (_model, Classes, Features) = (model, classes, new SpeechFeatures(options));
        _model.Eval();
    }

    public IReadOnlyList<string> Classes { get; }

    public SpeechFeatures Features { get; }

    /// <summary>The model of the keyword-spotting run in <paramref name="folder"/> (its best weights when <paramref name="best"/>).</summary>
    public static KeywordSpotter Load(RunFolder folder, string verb, bool best = false)
    {
        var config = TrainedWeights.ReadConfig(folder, KeywordSpottingTask.TaskName, verb);
        var classes = KeywordSpottingData.ReadClasses(folder);
        var model = KeywordSpottingTask.CreateModel(config, classes.Length);
        TrainedWeights.Load(model, folder, best);
        return new KeywordSpotter(model, classes, config.GetTaskOptions<KeywordSpottingOptions>());
    }

    /// <summary>Class probabilities [clips, classes] of one-second clips at the run's sample rate (each fitted to one second).</summary>
    public double[][] Probabilities(IReadOnlyList<float[]> clips)
    {
        int size = Features.Size;
        var x = new float[clips.Count * size];
        for (int i = 0; i < clips.Count; i++) Features.Compute(Features.Fit(clips[i]), x.AsSpan(i * size, size));
        using var noGrad = new NoGrad();
        using var scope = new MemoryScope();
        var p = _model.Forward(Tensor.FromArray(x, [clips.Count, 1, Features.Bands, Features.Frames])).Softmax(-1).ToArray<double>();
        return [.. Enumerable.Range(0, clips.Count).Select(i => p.AsSpan(i * Classes.Count, Classes.Count).ToArray())];
    }

    /// <summary>The most likely class of a clip and its probability.</summary>
    public (string Word, double Probability) Classify(Waveform audio)
    {
        var p = Probabilities([Features.Resample(audio)])[0];
        int best = Array.IndexOf(p, p.Max());
        return (Classes[best], p[best]);
    }

    /// <summary>
    /// The words in a long recording: one-second windows every <paramref name="hop"/> seconds are classified; runs of
    /// at least two consecutive windows agreeing on a word (not _unknown_ or _silence_) with probability at least
    /// <paramref name="threshold"/> make one word, whose start and end are where the sound around the run's centre
    /// rises above, and falls back below, a tenth of its peak level (-20 dB).
    /// </summary>
    public List<HeardWord> Listen(Waveform audio, double hop = 0.1, double threshold = 0.6)
    {
        if (!(hop > 0 && hop <= 1)) throw new ArgumentException($"--hop must be in (0, 1] seconds, got {hop}");
        if (!(threshold > 0 && threshold < 1)) throw new ArgumentException($"--threshold must be in (0, 1), got {threshold}");
        var samples = Features.Resample(audio);
        int rate = Features.Options.SampleRate, window = Features.ClipSamples, step = Math.Max(1, (int)Math.Round(hop * rate));
        // Half a window of silence at each end, so words at the very start or end are seen centred too.
        var padded = new float[samples.Length + window];
        samples.CopyTo(padded, window / 2);
        var starts = new List<int>();
        for (int s = 0; s + window <= padded.Length; s += step) starts.Add(s);
        var probabilities = new List<double[]>();
        foreach (var chunk in starts.Chunk(64)) probabilities.AddRange(Probabilities([.. chunk.Select(s => padded.AsSpan(s, window).ToArray())]));
        var heard = new List<HeardWord>();
        int i = 0;
        while (i < starts.Count)
        {
            var p = probabilities[i];
            int best = Array.IndexOf(p, p.Max());
            string word = Classes[best];
            if (word.StartsWith('_') || p[best] < threshold) { i++; continue; }
            int j = i;
            double peak = p[best];
            while (j + 1 < starts.Count && Array.IndexOf(probabilities[j + 1], probabilities[j + 1].Max()) == best && probabilities[j + 1][best] >= threshold)
                peak = Math.Max(peak, probabilities[++j][best]);
            if (j > i)
            {
                // A window starting at s in the padded audio is centred on sample s of the recording.
                double centre = (starts[i] + starts[j]) / 2.0;
                var (from, to) = Extent(samples, (int)centre, rate);
                heard.Add(new HeardWord(word, (double)from / rate, (double)to / rate, peak));
            }
            i = j + 1;
        }
        return heard;
    }

    // The sound around `centre`: 10 ms frames whose RMS is within 20 dB of the loudest frame within half a second,
    // grown outwards from the loudest one while frames stay above that level (gaps under 100 ms are bridged).
    private static (int From, int To) Extent(float[] samples, int centre, int rate)
    {
        int frame = rate / 100, half = rate / 2;
        int lo = Math.Max(0, centre - half), hi = Math.Min(samples.Length, centre + half);
        int frames = Math.Max(1, (hi - lo) / frame);
        var level = new double[frames];
        for (int f = 0; f < frames; f++)
            level[f] = AudioAugment.Power(samples.AsSpan(lo + f * frame, Math.Min(frame, samples.Length - lo - f * frame)));
        int loud = Array.IndexOf(level, level.Max());
        double floor = level[loud] / 100;
        int first = loud, last = loud, gap = 10;
        for (int f = loud - 1, quiet = 0; f >= 0 && quiet <= gap; f--)
            if (level[f] >= floor) { first = f; quiet = 0; } else quiet++;
        for (int f = loud + 1, quiet = 0; f < frames && quiet <= gap; f++)
            if (level[f] >= floor) { last = f; quiet = 0; } else quiet++;
        return (lo + first * frame, lo + (last + 1) * frame);
    }
}
