namespace Loom.Models;

/// <summary>A pair of images to verify: the same identity or not, and the line of pairs.txt it came from.</summary>
public sealed record FacePair(string First, string Second, bool Same, int Line);

/// <summary>
/// LFW's layout (Huang et al. 2007): a folder per person holding <c>Name_0001.jpg</c>, <c>Name_0002.jpg</c>…, and
/// <c>pairs.txt</c>: a header line (the number of pairs, or folds and pairs per fold), then one pair per line, either
/// <c>name n1 n2</c> (two images of one person) or <c>name1 n1 name2 n2</c> (two people), separated by tabs or spaces.
/// </summary>
public static class LfwPairs
{
    public const string PairsFile = "pairs.txt";

    /// <summary>Whether <paramref name="folder"/> looks like an LFW folder: a pairs.txt beside person folders.</summary>
    public static bool Recognize(string folder) => Directory.Exists(folder) && File.Exists(Path.Combine(folder, PairsFile));

    /// <summary>The image of person <paramref name="name"/> numbered <paramref name="number"/>.</summary>
    public static string ImagePath(string folder, string name, int number) =>
        Path.Combine(folder, name, string.Create(CultureInfo.InvariantCulture, $"{name}_{number:D4}.jpg"));

    /// <summary>
    /// The pairs of <paramref name="folder"/>'s pairs.txt, each image checked to exist. A malformed line or a missing
    /// image is an <see cref="InvalidDataException"/> naming pairs.txt and the line.
    /// </summary>
    public static IReadOnlyList<FacePair> Read(string folder)
    {
        string path = Path.Combine(folder, PairsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: no {PairsFile} (an LFW folder holds one folder per person and pairs.txt)", path);
        var pairs = new List<FacePair>();
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            var f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0) continue;
            if (number == 1 && f.All(x => int.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                if (f.Length > 2) throw Malformed(path, number, "a header of the number of pairs, or of folds and pairs per fold");
                continue;
            }
            FacePair pair = f.Length switch
            {
                3 => new FacePair(Image(folder, path, number, f[0], f[1]), Image(folder, path, number, f[0], f[2]), true, number),
                4 => new FacePair(Image(folder, path, number, f[0], f[1]), Image(folder, path, number, f[2], f[3]), false, number),
                _ => throw Malformed(path, number, $"'name n1 n2' or 'name1 n1 name2 n2', got {f.Length} field{(f.Length == 1 ? "" : "s")}"),
            };
            pairs.Add(pair);
        }
        if (pairs.Count == 0) throw new InvalidDataException($"{path}: no pairs");
        return pairs;
    }

    private static string Image(string folder, string path, int line, string name, string number)
    {
        if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw Malformed(path, line, $"an image number of 1 or more, got '{number}'");
        var image = ImagePath(folder, name, n);
        if (!File.Exists(image)) throw new InvalidDataException($"{path}:{line}: no image {Path.GetRelativePath(folder, image)}");
        return image;
    }

    private static InvalidDataException Malformed(string path, int line, string expected) => new($"{path}:{line}: expected {expected}");
}
