using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Loom.Data;

/// <summary>What <see cref="SpeechCommandsGenerator"/> makes.</summary>
public sealed record SpeechCommandsOptions
{
    /// <summary>The words to recognise; each becomes a class folder.</summary>
    public required IReadOnlyList<string> Words { get; init; }

    /// <summary>The folder to write (new or empty).</summary>
    public required string Output { get; init; }

    /// <summary>espeak-ng clips per word (random voice, variant, speed and pitch each); also the size of the silence class.</summary>
    public int PerWord { get; init; } = 200;

    /// <summary>Which synthesisers to use: espeak-ng, flite, festival.</summary>
    public IReadOnlyList<string> Synthesizers { get; init; } = SpeechCommandsGenerator.AllSynthesizers;

    /// <summary>Synthesiser processes run at once.</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;

    public int Seed { get; init; }
}

/// <summary>What was written: clips per class and the manifest's path.</summary>
public sealed record SpeechCommandsResult(string Manifest, IReadOnlyDictionary<string, int> ClipsPerClass, int Clips);

/// <summary>
/// Makes a speech-commands dataset without recordings: every word spoken by the synthesisers Debian ships — espeak-ng
/// (formant synthesis: English voices × ~100 variants, random speed and pitch), flite (its US English voices at three
/// speeds) and festival (the kal and ked diphone voices and the slt HTS voice, at three speeds) — into one sub-folder per
/// word, plus <see cref="Unknown"/> (other words, spoken the same ways) and <see cref="Silence"/> (silence and noises
/// made here), and <see cref="ManifestFile"/>, one row per clip. espeak-ng variants are held out whole for validation
/// and test (the manifest's split column), so those splits measure voices the model never heard.
/// </summary>
public static partial class SpeechCommandsGenerator
{
    public const string Unknown = "_unknown_", Silence = "_silence_", ManifestFile = "manifest.csv";

    public static IReadOnlyList<string> AllSynthesizers { get; } = ["espeak-ng", "flite", "festival"];

    /// <summary>The program each synthesiser runs, and the Debian packages that install it.</summary>
    public static IReadOnlyDictionary<string, (string Program, string Packages)> Programs { get; } = new Dictionary<string, (string, string)>
    {
        ["espeak-ng"] = ("espeak-ng", "espeak-ng"),
        ["flite"] = ("flite", "flite"),
        ["festival"] = ("festival", "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"),
    };

    // espeak-ng's English voices (its mbrola voices need the mbrola packages, which are not assumed).
    private static readonly string[] EspeakVoices = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029"];
    private static readonly string[] FliteVoices = ["kal", "kal16", "awb", "rms", "slt"];
    private static readonly string[] FestivalVoices = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"];
    private static readonly double[] Stretches = [0.85, 1.0, 1.2];

    /// <summary>Words for the unknown class: everyday words and the other commands of Google's speech-commands set.</summary>
    public static IReadOnlyList<string> FillerWords { get; } =
    [
        "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "bed", "bird", "cat", "dog", "happy", "house",
        "tree", "wow", "forward", "backward", "follow", "learn", "visual", "hello", "water", "table", "window", "green",
        "yellow", "music", "paper", "morning", "little", "open", "close", "again", "never", "people", "number", "answer",
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hundred", "often", "nothing",
    ];

    [GeneratedRegex(@"^[\p{L}\p{N}' -]+$")]
    private static partial Regex WordPattern();

    /// <summary>The synthesisers among <paramref name="names"/> whose program is not on the PATH.</summary>
    public static IReadOnlyList<string> Missing(IEnumerable<string> names) =>
        [.. names.Where(n => Programs.TryGetValue(n, out var p) && FindProgram(p.Program) is null)];

    /// <summary>Synthesises the dataset; <paramref name="progress"/> gets (clips done, clips in all) as clips finish.</summary>
    /// <exception cref="ArgumentException">Bad words or options, a missing synthesiser, or an output folder that is not empty.</exception>
    public static SpeechCommandsResult Generate(SpeechCommandsOptions options, Action<int, int>? progress = null)
    {
        var words = Check(options);
        Directory.CreateDirectory(options.Output);
        var jobs = Plan(options, words);
        foreach (var label in jobs.Select(j => j.Label).Append(Silence).Distinct()) Directory.CreateDirectory(Path.Combine(options.Output, label));
        var silence = SilenceClips(options);
        int total = jobs.Sum(j => j.Files.Count) + silence.Count, done = 0;
        var errors = new ConcurrentQueue<string>();
        void Finished(int clips) => progress?.Invoke(Interlocked.Add(ref done, clips), total);
        foreach (var (file, samples) in silence)
        {
            WavFile.Write(Path.Combine(options.Output, file.File), samples, SilenceRate);
            Finished(1);
        }
        // Festival starts slowly (a few seconds to load a voice), so each of its jobs is a whole voice's batch; queued
        // first, as they are the longest.
        Parallel.ForEach(jobs.OrderByDescending(j => j.Files.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Jobs) }, job =>
        {
            if (!errors.IsEmpty) return;
            if (Run(job, options.Output) is { } error) errors.Enqueue(error);
            else Finished(job.Files.Count);
        });
        if (errors.TryDequeue(out var first)) throw new InvalidOperationException(first);
        var rows = jobs.SelectMany(j => j.Files).Concat(silence.Select(s => s.File)).OrderBy(r => r.File, StringComparer.Ordinal).ToList();
        var manifest = Path.Combine(options.Output, ManifestFile);
        WriteManifest(manifest, rows);
        var counts = rows.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count());
        return new SpeechCommandsResult(manifest, counts, rows.Count);
    }

    private static List<string> Check(SpeechCommandsOptions options)
    {
        var words = options.Words.Select(w => w.Trim().ToLowerInvariant()).Where(w => w.Length > 0).ToList();
        if (words.Count == 0) throw new ArgumentException("--words names no word; give the words to recognise, such as --words \"yes no\"");
        foreach (var w in words)
        {
            if (w is Unknown or Silence) throw new ArgumentException($"--words: '{w}' is the name of a class the generator adds itself");
            if (!WordPattern().IsMatch(w)) throw new ArgumentException($"--words: '{w}' is not a word (letters, digits, apostrophes, hyphens and spaces only)");
        }
        if (words.Distinct().Count() != words.Count) throw new ArgumentException($"--words names '{words.GroupBy(w => w).First(g => g.Count() > 1).Key}' twice");
        if (options.PerWord < 1) throw new ArgumentException($"--per-word must be at least 1, got {options.PerWord}");
        if (options.Synthesizers.Count == 0) throw new ArgumentException("--synthesizers names none; give some of " + string.Join(", ", AllSynthesizers));
        foreach (var s in options.Synthesizers)
            if (!Programs.ContainsKey(s)) throw new ArgumentException($"--synthesizers: unknown synthesiser '{s}'; choose from {string.Join(", ", AllSynthesizers)}");
        var missing = Missing(options.Synthesizers);
        if (missing.Count > 0)
            throw new ArgumentException($"{string.Join(", ", missing)} not installed (apt-get install {string.Join(" ", missing.Select(m => Programs[m].Packages))}), or leave {(missing.Count == 1 ? "it" : "them")} out with --synthesizers");
        if (Directory.Exists(options.Output) && Directory.EnumerateFileSystemEntries(options.Output).Any())
            throw new ArgumentException($"--out {options.Output} is not empty; give a new or empty folder");
        return words;
    }

    /// <summary>One clip of the manifest.</summary>
    private sealed record Clip(string File, string Label, string Split, string Synthesizer, string Voice, string Text, string Speed, string Pitch);

    /// <summary>A synthesiser run making <see cref="Files"/> (one clip; a whole voice's batch for festival).</summary>
    private sealed record Job(string Synthesizer, string Label, IReadOnlyList<Clip> Files);

    private static List<Job> Plan(SpeechCommandsOptions options, List<string> words)
    {
        var jobs = new List<Job>();
        var fillers = FillerWords.Where(f => !words.Contains(f)).ToArray();
        var labels = words.Append(Unknown).ToList();
        var variants = options.Synthesizers.Contains("espeak-ng") ? EspeakVariants() : [];
        foreach (var label in labels)
        {
            var random = new System.Random(options.Seed * 7919 + StableHash(label));
            string Text() => label == Unknown ? fillers[random.Next(fillers.Length)] : label;
            string Name(string synth, string voice, int i) => $"{label}/{synth}-{voice.Replace('+', '_')}-{i:D4}.wav";
            if (options.Synthesizers.Contains("espeak-ng"))
            {
                for (int i = 0; i < options.PerWord; i++)
                {
                    string variant = variants[random.Next(variants.Count)];
                    string voice = EspeakVoices[random.Next(EspeakVoices.Length)] + "+" + variant;
                    int speed = random.Next(120, 201), pitch = random.Next(20, 81);
                    var clip = new Clip(Name("espeak", voice, i), label, VariantSplit(variant), "espeak-ng", voice, Text(), speed.ToString(CultureInfo.InvariantCulture), pitch.ToString(CultureInfo.InvariantCulture));
                    jobs.Add(new Job("espeak-ng", label, [clip]));
                }
            }
            if (options.Synthesizers.Contains("flite"))
            {
                int i = 0;
                foreach (var voice in FliteVoices)
                    foreach (var stretch in Stretches)
                        jobs.Add(new Job("flite", label, [new Clip(Name("flite", voice, i++), label, "train", "flite", voice, Text(), Invariant(stretch), "")]));
            }
            if (options.Synthesizers.Contains("festival"))
            {
                int i = 0;
                foreach (var voice in FestivalVoices)
                    jobs.Add(new Job("festival", label, [.. Stretches.Select(stretch => new Clip(Name("festival", voice, i++), label, "train", "festival", voice, Text(), Invariant(stretch), ""))]));
            }
        }
        return jobs;
    }

    /// <summary>
    /// The split of an espeak-ng variant: about a tenth of the variants are validation voices and a tenth test voices,
    /// chosen by a hash of the name so that the choice does not depend on the variants installed. Flite, festival and
    /// the silence clips are training data except for silence's own tenth each.
    /// </summary>
    public static string VariantSplit(string variant) => (StableHash(variant) % 10) switch { 0 => "test", 1 => "validation", _ => "train" };

    // FNV-1a: string.GetHashCode differs between processes.
    private static int StableHash(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) h = (h ^ c) * 16777619;
        return (int)(h & 0x7FFFFFFF);
    }

    private static string Invariant(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static List<string> EspeakVariants()
    {
        var (code, output, error) = Execute("espeak-ng", ["--voices=variant"], null);
        if (code != 0) throw new InvalidOperationException($"espeak-ng --voices=variant failed: {FirstLine(error)}");
        // Lines: Pty Language Age/Gender VoiceName File …; the file column is "!v/NAME".
        var variants = output.Split('\n').Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length >= 5 && p[4].StartsWith("!v/", StringComparison.Ordinal)).Select(p => p[4][3..]).Distinct().Order(StringComparer.Ordinal).ToList();
        if (variants.Count == 0) throw new InvalidOperationException("espeak-ng --voices=variant listed no variants");
        return variants;
    }

    private const int SilenceRate = 16000;

    // Silence and background noise, one second each: near-silence, white, pink and brown noise and mains hum at random
    // levels, so the class covers the pauses between commands whatever the line sounds like.
    private static List<(Clip File, float[] Samples)> SilenceClips(SpeechCommandsOptions options)
    {
        var random = new System.Random(options.Seed * 7919 + StableHash(Silence));
        var clips = new List<(Clip, float[])>();
        var kinds = Noise.Kinds;
        for (int i = 0; i < options.PerWord; i++)
        {
            string kind = kinds[i % kinds.Count];
            double level = kind == "quiet" ? 1e-4 * Math.Pow(10, random.NextDouble()) : 0.003 * Math.Pow(10, 1.5 * random.NextDouble());
            var samples = Noise.Make(kind, SilenceRate, random, level);
            string split = (i % 10) switch { 3 => "test", 7 => "validation", _ => "train" };
            clips.Add((new Clip($"{Silence}/noise-{kind}-{i:D4}.wav", Silence, split, "noise", kind, "", "", ""), samples));
        }
        return clips;
    }

    private static string? Run(Job job, string root)
    {
        string Out(Clip c) => Path.GetFullPath(Path.Combine(root, c.File));
        (int Code, string Output, string Error) result;
        string what;
        switch (job.Synthesizer)
        {
            case "espeak-ng":
            {
                var c = job.Files[0];
                var (voice, speed, pitch) = (c.Voice, c.Speed, c.Pitch);
                what = $"espeak-ng -v {voice} -s {speed} -p {pitch} '{c.Text}'";
                result = Execute("espeak-ng", ["-v", voice, "-s", speed, "-p", pitch, "-w", Out(c), c.Text], null);
                break;
            }
            case "flite":
            {
                var c = job.Files[0];
                what = $"flite -voice {c.Voice} '{c.Text}'";
                result = Execute("flite", ["-voice", c.Voice, "--setf", $"duration_stretch={c.Speed}", "-t", c.Text, "-o", Out(c)], null);
                break;
            }
            default:
            {
                // One festival process per voice: Scheme that selects the voice once and saves each clip.
                var script = new StringBuilder();
                script.Append(CultureInfo.InvariantCulture, $"(voice_{job.Files[0].Voice})\n");
                foreach (var c in job.Files)
                {
                    script.Append(CultureInfo.InvariantCulture, $"(Parameter.set 'Duration_Stretch {c.Speed})\n");
                    script.Append(CultureInfo.InvariantCulture, $"(utt.save.wave (utt.synth (Utterance Text \"{c.Text.Replace("\\", "").Replace("\"", "")}\")) \"{Out(c)}\" 'riff)\n");
                }
                what = $"festival with voice {job.Files[0].Voice}";
                result = Execute("festival", ["--pipe"], script.ToString());
                break;
            }
        }
        if (result.Code != 0) return $"{what} failed (exit {result.Code}): {FirstLine(result.Error)}";
        foreach (var c in job.Files)
        {
            var info = new FileInfo(Out(c));
            if (!info.Exists || info.Length <= 44) return $"{what} wrote no audio to {c.File}: {FirstLine(result.Error + result.Output)}";
        }
        return null;
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "(no message)";

    private static (int Code, string Output, string Error) Execute(string program, IEnumerable<string> arguments, string? input)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string? FindProgram(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    private static void WriteManifest(string path, IEnumerable<Clip> rows)
    {
        var sb = new StringBuilder("file,label,split,synthesizer,voice,text,speed,pitch\n");
        foreach (var r in rows) sb.Append(string.Join(',', r.File, r.Label, r.Split, r.Synthesizer, r.Voice, r.Text, r.Speed, r.Pitch)).Append('\n');
        File.WriteAllText(path, sb.ToString());
    }
}
