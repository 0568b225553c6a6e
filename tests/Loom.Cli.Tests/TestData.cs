using SkiaSharp;

namespace Loom.Cli.Tests;

/// <summary>Small data files for the command's tests, written into a temporary folder.</summary>
internal static class TestData
{
    /// <summary>
    /// A CSV of <paramref name="perClass"/> rows per class: four numeric features around a class centre and a text
    /// label column "label" (setosa-like names, so labels are categorical).
    /// </summary>
    public static string BlobsCsv(string folder, int perClass = 30, int seed = 1)
    {
        var rng = new System.Random(seed);
        string[] names = ["alpha", "beta", "gamma"];
        var sb = new StringBuilder("x0,x1,x2,x3,label\n");
        for (int i = 0; i < perClass * names.Length; i++)
        {
            int c = i % names.Length;
            for (int f = 0; f < 4; f++)
                sb.Append((rng.NextDouble() * 2 - 1 + (f % names.Length == c ? 3 : 0)).ToString("F4", CultureInfo.InvariantCulture)).Append(',');
            sb.Append(names[c]).Append('\n');
        }
        var path = Path.Combine(folder, "blobs.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>
    /// An image folder <paramref name="folder"/>/<paramref name="name"/> with class sub-folders of small grey PNGs:
    /// "dark" and "light", or those of them in <paramref name="classes"/>.
    /// </summary>
    public static string ImageFolder(string folder, int perClass = 6, string name = "images", string[]? classes = null)
    {
        var root = Path.Combine(folder, name);
        var levels = new Dictionary<string, byte> { ["dark"] = 40, ["light"] = 210 };
        foreach (var className in classes ?? ["dark", "light"])
        {
            Directory.CreateDirectory(Path.Combine(root, className));
            for (int i = 0; i < perClass; i++)
            {
                using var bitmap = new SKBitmap(12, 10);
                byte v = (byte)(levels[className] + i);
                bitmap.Erase(new SKColor(v, v, v));
                using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(root, className, $"{i}.png"), png.ToArray());
            }
        }
        return root;
    }

    /// <summary>
    /// Converts one of scikit-learn's bundled CSVs, whose first line is "n_samples,n_features,class names…", into a
    /// CSV with a header (f0…, "target") and class names as labels.
    /// </summary>
    public static string FromSklearn(string source, string folder)
    {
        var lines = File.ReadAllLines(source).Where(l => l.Length > 0).ToArray();
        var head = lines[0].Split(',');
        int samples = int.Parse(head[0], CultureInfo.InvariantCulture), features = int.Parse(head[1], CultureInfo.InvariantCulture);
        var classes = head[2..];
        Assert.Equal(samples, lines.Length - 1);
        var sb = new StringBuilder(string.Join(',', Enumerable.Range(0, features).Select(i => $"f{i}")) + ",target\n");
        foreach (var line in lines[1..])
        {
            var fields = line.Split(',');
            Assert.Equal(features + 1, fields.Length);
            sb.Append(string.Join(',', fields[..features])).Append(',').Append(classes[int.Parse(fields[^1], CultureInfo.InvariantCulture)]).Append('\n');
        }
        var path = Path.Combine(folder, Path.GetFileNameWithoutExtension(source) + ".csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>Every file of a folder (not its sub-folders) with its bytes: compare two to show that nothing was written.</summary>
    public static SortedDictionary<string, string> Snapshot(string folder) =>
        new(Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(File.ReadAllBytes(f))), StringComparer.Ordinal);

    /// <summary>A copy of a folder's files (a run folder) at <paramref name="destination"/>.</summary>
    public static string CopyFolder(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(destination, Path.GetFileName(f)));
        return destination;
    }

    /// <summary>Every line of a run folder's metrics.jsonl.</summary>
    public static List<System.Text.Json.Nodes.JsonObject> Metrics(string runFolder) =>
        File.ReadAllLines(Path.Combine(runFolder, "metrics.jsonl")).Where(l => l.Length > 0)
            .Select(l => (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
}

/// <summary>A temporary folder deleted at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("loom-cli-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A killed child process may still hold a file for a moment; the folder is under /tmp anyway.
        }
    }
}
