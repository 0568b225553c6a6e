namespace Loom.Models;

/// <summary>One clip of an audio dataset: its file, its class (null when unknown) and its split ("train", "validation", "test", or null).</summary>
public sealed record AudioClip(string File, int? Label, string? Split);

/// <summary>
/// Finding audio clips and their classes: a folder with one sub-folder of .wav files per class (with a
/// <see cref="SpeechCommandsGenerator.ManifestFile"/>, its split column decides the splits), a flat folder of .wav files,
/// or one .wav file. Recognising looks at names only.
/// </summary>
public static class AudioClips
{
    public static bool IsWav(string path) => path.EndsWith(".wav", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="data"/> is a .wav file, a folder of them, or a folder of class folders of them.</summary>
    public static bool Recognize(string data)
    {
        if (File.Exists(data)) return IsWav(data);
        if (!Directory.Exists(data)) return false;
        if (File.Exists(Path.Combine(data, SpeechCommandsGenerator.ManifestFile))) return true;
        if (Directory.EnumerateFiles(data).Any(IsWav)) return true;
        // Class folders: the first few that hold files hold .wav files.
        var folders = Directory.EnumerateDirectories(data).Where(d => !Path.GetFileName(d).StartsWith('.')).Take(5).ToList();
        return folders.Count > 0 && folders.All(d => Directory.EnumerateFiles(d).Take(20).Any(IsWav));
    }

    /// <summary>The class folders of <paramref name="root"/>, sorted (ordinal), for a new run's class names.</summary>
    public static List<string> ClassFolders(string root) =>
        [.. Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Every clip of a class-folder dataset, labelled by <paramref name="classes"/>; with a manifest, in its order and with
    /// its splits. A class folder that is not among <paramref name="classes"/> is an error naming it.
    /// </summary>
    public static List<AudioClip> Labelled(string root, IReadOnlyList<string> classes)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var manifest = Path.Combine(root, SpeechCommandsGenerator.ManifestFile);
        if (File.Exists(manifest)) return FromManifest(root, manifest, index);
        var clips = new List<AudioClip>();
        foreach (var folder in ClassFolders(root))
        {
            if (!index.TryGetValue(folder, out int label))
                throw new InvalidDataException($"{Path.Combine(root, folder)}: the class '{folder}' is not one of the run's classes ({string.Join(", ", classes)})");
            clips.AddRange(Directory.EnumerateFiles(Path.Combine(root, folder)).Where(IsWav).Order(StringComparer.Ordinal).Select(f => new AudioClip(f, label, null)));
        }
        return clips;
    }

    private static List<AudioClip> FromManifest(string root, string manifest, Dictionary<string, int> index)
    {
        var lines = File.ReadAllLines(manifest);
        if (lines.Length == 0) throw new InvalidDataException($"{manifest}: empty; expected a header line with file, label and split columns");
        var header = lines[0].Split(',');
        int file = Array.IndexOf(header, "file"), labelColumn = Array.IndexOf(header, "label"), split = Array.IndexOf(header, "split");
        if (file < 0 || labelColumn < 0) throw new InvalidDataException($"{manifest}:1: the header needs the columns file and label (and optionally split)");
        var clips = new List<AudioClip>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var fields = lines[i].Split(',');
            if (fields.Length != header.Length) throw new InvalidDataException($"{manifest}:{i + 1}: {fields.Length} fields where the header has {header.Length}");
            if (!index.TryGetValue(fields[labelColumn], out int label))
                throw new InvalidDataException($"{manifest}:{i + 1}: the label '{fields[labelColumn]}' is not one of the classes ({string.Join(", ", index.Keys)})");
            string? s = split >= 0 ? fields[split] : null;
            if (s is not (null or "train" or "validation" or "test"))
                throw new InvalidDataException($"{manifest}:{i + 1}: split '{s}' must be train, validation or test");
            var path = Path.Combine(root, fields[file]);
            if (!File.Exists(path)) throw new InvalidDataException($"{manifest}:{i + 1}: {fields[file]} does not exist");
            clips.Add(new AudioClip(path, label, s));
        }
        return clips;
    }

    /// <summary>
    /// The class folders of a manifest's labels, for a new run: the label column's distinct values, sorted.
    /// </summary>
    public static List<string> ClassesOf(string root)
    {
        var manifest = Path.Combine(root, SpeechCommandsGenerator.ManifestFile);
        if (!File.Exists(manifest)) return ClassFolders(root);
        var lines = File.ReadLines(manifest).ToList();
        int label = Array.IndexOf(lines.FirstOrDefault()?.Split(',') ?? [], "label");
        if (label < 0) throw new InvalidDataException($"{manifest}:1: the header needs the columns file and label (and optionally split)");
        return [.. lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).Where(f => f.Length > label).Select(f => f[label]).Distinct().Order(StringComparer.Ordinal)];
    }

    private static readonly string[] DigitWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    /// <summary>
    /// New data for a trained run: one .wav file, a folder of class folders, or a flat folder of .wav files. A flat
    /// folder's file is labelled when its name is a class ("seven.wav") or a digit whose word is a class ("7.wav" for
    /// "seven", as in recordings of spoken digits); if some files are so labelled, the others are left out (noted).
    /// </summary>
    public static (List<AudioClip> Clips, List<string> Notes) NewData(string data, IReadOnlyList<string> classes)
    {
        var notes = new List<string>();
        if (File.Exists(data)) return ([new AudioClip(data, ByName(data, classes), null)], notes);
        var flat = Directory.EnumerateFiles(data).Where(IsWav).Order(StringComparer.Ordinal).ToList();
        if (flat.Count == 0 || File.Exists(Path.Combine(data, SpeechCommandsGenerator.ManifestFile)))
        {
            var clips = Labelled(data, classes);
            // A generated dataset given as new data is evaluated on its test voices.
            if (clips.Any(c => c.Split == "test")) { notes.Add($"{data}: evaluating the clips of its test split"); clips = [.. clips.Where(c => c.Split == "test")]; }
            return (clips, notes);
        }
        var named = flat.Select(f => new AudioClip(f, ByName(f, classes), null)).ToList();
        var labelled = named.Where(c => c.Label is not null).ToList();
        if (labelled.Count == 0) return (named, notes);
        if (labelled.Count < named.Count)
            notes.Add($"{data}: {labelled.Count} files named after a class are labelled by their name; {named.Count - labelled.Count} others left out ({string.Join(", ", named.Where(c => c.Label is null).Take(3).Select(c => Path.GetFileName(c.File)))}…)");
        return (labelled, notes);
    }

    private static int? ByName(string file, IReadOnlyList<string> classes)
    {
        var stem = Path.GetFileNameWithoutExtension(file).ToLowerInvariant();
        if (stem.Length == 1 && char.IsAsciiDigit(stem[0])) stem = DigitWords[stem[0] - '0'];
        int i = classes.ToList().IndexOf(stem);
        return i >= 0 ? i : null;
    }
}
