namespace Loom.Cli.Tests;

/// <summary>
/// One small speech-commands dataset made by `loom datasets make` with espeak-ng ("yes" and "no", plus unknown and
/// silence) and one quick `loom train` on it, shared by the tests of the speech verbs. Nothing is made when espeak-ng is
/// missing: the tests then skip (or fail, under LOOM_REQUIRE_DATASETS).
/// </summary>
public sealed class SpeechRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public SpeechRunFixture()
    {
        if (SpeechData.Espeak.Missing.Count > 0) return;
        Dataset = _temp.File("commands");
        Make = CliRunner.Succeed("datasets", "make", "speech-commands", "--words", "yes no", "--per-word", "60", "--synthesizers", "espeak-ng", "--out", Dataset);
        Train = CliRunner.Succeed("train", "--data", Dataset, "--epochs", "6", "--threads", "2", "--output", _temp.File("runs"));
        Folder = CliRunner.RunFolderUnder(_temp.File("runs"));
        Manifest = [.. File.ReadAllLines(Path.Combine(Dataset, SpeechCommandsGenerator.ManifestFile)).Skip(1).Select(l => l.Split(','))];
    }

    public string Dataset { get; } = "";

    internal CliResult? Make { get; }

    internal CliResult? Train { get; }

    public string Folder { get; } = "";

    /// <summary>The manifest's rows: file, label, split, synthesizer, voice, text, speed, pitch.</summary>
    public IReadOnlyList<string[]> Manifest { get; } = [];

    /// <summary>A training clip of <paramref name="word"/> (the model has learnt it, so its prediction is not luck).</summary>
    public string TrainingClip(string word, int skip = 0) =>
        Path.Combine(Dataset, Manifest.Where(r => r[1] == word && r[2] == "train").Skip(skip).First()[0]);

    public string Temp(string name) => _temp.File(name);

    public void Dispose() => _temp.Dispose();
}

public class SpeechCommandTests(SpeechRunFixture run) : IClassFixture<SpeechRunFixture>
{
    [EspeakFact]
    public void Datasets_make_writes_the_classes_and_training_picks_keyword_spotting_and_beats_chance()
    {
        SpeechData.Espeak.Require();
        Assert.Contains("wrote 240 clips", run.Make!.Output);
        Assert.Equal(["_silence_", "_unknown_", "no", "yes"], Directory.GetDirectories(run.Dataset).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var config = File.ReadAllText(Path.Combine(run.Folder, "config.json"));
        Assert.Contains("\"task\": \"keyword-spotting\"", config);
        Assert.Contains("\"model\": \"kws-cnn\"", config);
        // Four classes: chance is 25%; the test split holds voices (espeak-ng variants) never trained on.
        var test = TestData.Metrics(run.Folder).Single(l => (string?)l["kind"] == "test");
        Assert.True((double)test["accuracy"]! >= 0.6, $"test accuracy {test["accuracy"]} on held-out voices");
        Assert.True(File.Exists(Path.Combine(run.Folder, "classes.json")));
    }

    [EspeakFact]
    public void Predict_of_a_clip_prints_its_word_and_probability()
    {
        SpeechData.Espeak.Require();
        var clip = run.TrainingClip("yes");
        var result = CliRunner.Succeed("predict", run.Folder, clip);
        Assert.Equal("file,predicted,probability,p__silence_,p__unknown_,p_no,p_yes", result.Lines[0]);
        var row = result.Lines[1].Split(',');
        Assert.Equal([clip, "yes"], row[..2]);
        double p = double.Parse(row[2], CultureInfo.InvariantCulture);
        Assert.InRange(p, 0.25, 1);
        Assert.Equal(p, double.Parse(row[6], CultureInfo.InvariantCulture));
    }

    [EspeakFact]
    public void Listen_finds_words_placed_at_known_times_in_a_long_recording()
    {
        SpeechData.Espeak.Require();
        // Six seconds of faint noise at 16 kHz with "yes" at 0.8 s, "no" at 2.6 s and "yes" at 4.4 s.
        const int rate = 16000;
        var recording = Noise.Make("white", rate, new System.Random(2), 0.001, seconds: 6);
        var placed = new List<(string Word, double Start, double End)>();
        foreach (var (word, at, skip) in new[] { ("yes", 0.8, 1), ("no", 2.6, 1), ("yes", 4.4, 2) })
        {
            var audio = WavFile.Read(run.TrainingClip(word, skip));
            var clip = Resampler.Resample(audio.Mono(), audio.SampleRate, rate);
            int offset = (int)(at * rate);
            for (int i = 0; i < clip.Length && offset + i < recording.Length; i++) recording[offset + i] += clip[i];
            var (first, last) = Voiced(clip, rate);
            placed.Add((word, at + first, at + last));
        }
        WavFile.Write(run.Temp("long.wav"), recording, rate);

        var result = CliRunner.Succeed("listen", run.Folder, run.Temp("long.wav"));

        Assert.Equal("start,end,word,probability", result.Lines[0]);
        var heard = result.Lines.Skip(1).Select(l => l.Split(',')).Select(f => (Word: f[2], Start: double.Parse(f[0], CultureInfo.InvariantCulture), End: double.Parse(f[1], CultureInfo.InvariantCulture))).ToList();
        Assert.True(placed.Select(p => p.Word).SequenceEqual(heard.Select(h => h.Word)), $"placed {string.Join(", ", placed)}; heard:\n{result.Output}");
        for (int i = 0; i < placed.Count; i++)
        {
            Assert.True(Math.Abs(heard[i].Start - placed[i].Start) < 0.15, $"word {i}: heard from {heard[i].Start:F2} s, placed from {placed[i].Start:F2} s");
            Assert.True(Math.Abs(heard[i].End - placed[i].End) < 0.15, $"word {i}: heard until {heard[i].End:F2} s, placed until {placed[i].End:F2} s");
        }
    }

    // Where a clip's sound is: the first and last 10 ms frames within 20 dB of its loudest.
    private static (double First, double Last) Voiced(float[] clip, int rate)
    {
        int frame = rate / 100, frames = clip.Length / frame;
        var level = Enumerable.Range(0, frames).Select(f => AudioAugment.Power(clip.AsSpan(f * frame, frame))).ToArray();
        double floor = level.Max() / 100;
        int first = Array.FindIndex(level, l => l >= floor), last = Array.FindLastIndex(level, l => l >= floor);
        return ((double)first * frame / rate, (double)(last + 1) * frame / rate);
    }

    [EspeakFact]
    public void Speech_translate_recognises_the_word_then_translates_it()
    {
        SpeechData.Espeak.Require();
        var result = CliRunner.Succeed("speech-translate", run.Folder, run.TrainingClip("yes"), "--to", "es");
        Assert.StartsWith("yes → sí (p = ", Assert.Single(result.Lines));
        File.WriteAllText(run.Temp("it.tsv"), "yes\tsì\nno\tno\n");
        Assert.StartsWith("yes → sì", CliRunner.Succeed("speech-translate", run.Folder, run.TrainingClip("yes"), "--to", "it", "--table", run.Temp("it.tsv")).Output);
        CliRunner.Fail(["speech-translate", run.Folder, run.TrainingClip("yes"), "--to", "xx"], "--to xx: no built-in word table");
    }

    [EspeakFact]
    public void Speech_verbs_refuse_bad_input_in_one_line()
    {
        SpeechData.Espeak.Require();
        File.WriteAllText(run.Temp("not.wav"), "hello");
        CliRunner.Fail(["listen", run.Folder, run.Temp("not.wav")], "not.wav: not a WAV file (no RIFF/WAVE header)");
        CliRunner.Fail(["listen", run.Folder, run.Temp("missing.wav")], "missing.wav: no such WAV file");
        CliRunner.Fail(["listen", run.Folder, run.TrainingClip("no"), "--hop", "0"], "--hop must be in (0, 1]");
        CliRunner.Fail(["predict", run.Folder, run.Temp("not.wav")], "not.wav: not a WAV file");
        CliRunner.Fail(["datasets", "make", "speech-commands", "--words", "yes", "--out", run.Dataset], "is not empty");
    }

    [EspeakFact]
    public void Compression_verbs_that_read_training_clips_get_them_from_a_trained_run()
    {
        SpeechData.Espeak.Require();
        // A trained run's data loads without its training features (eval needs none): calibration and distillation
        // found no training samples ("static int8: calibration needs at least one batch").
        var quantized = run.Temp("int8");
        CliRunner.Succeed("quantize", run.Folder, "--calibrate", "16", "--out", quantized);
        Assert.Contains("\"quantization\": \"static-int8\"", File.ReadAllText(Path.Combine(quantized, "config.json")));
        Assert.Contains("accuracy", CliRunner.Succeed("eval", quantized).Output);
        CliRunner.Succeed("distill", "--teacher", run.Folder, "--model", "kws-dscnn", "--epochs", "1", "--max-steps", "2", "--output", run.Temp("distilled"));
        Assert.True(File.Exists(Path.Combine(CliRunner.RunFolderUnder(run.Temp("distilled")), "model.safetensors")));
    }

    [EspeakAndAsteriskFact]
    public void Eval_on_the_real_digit_recordings_reads_them_labelled_by_file_name()
    {
        SpeechData.Espeak.Require();
        SpeechData.Asterisk.Require();
        // The run knows no digits: asterisk's files match none of its classes, so they are all unlabelled and eval refuses.
        var result = CliRunner.Run("eval", run.Folder, "--data", SpeechData.AsteriskDigits);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not labelled", result.Errors);
    }
}
