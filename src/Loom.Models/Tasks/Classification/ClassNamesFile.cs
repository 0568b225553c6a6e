using System.Text.Json;

namespace Loom.Models;

/// <summary>
/// <c>classes.json</c> in a run folder: the class names of a one-class-per-sample task in the order of the model's
/// outputs, so that evaluating or predicting new data maps its labels to the classes the model was trained on.
/// </summary>
public static class ClassNamesFile
{
    public const string Name = "classes.json";

    public static void Write(RunFolder folder, IReadOnlyList<string> classNames) =>
        File.WriteAllText(folder.File(Name), JsonSerializer.Serialize(classNames));

    /// <summary>The names in <paramref name="path"/>; a missing, malformed or ambiguous file is an <see cref="InvalidDataException"/>.</summary>
    public static string[] Read(string path)
    {
        string[]? names;
        try
        {
            names = File.Exists(path) ? JsonSerializer.Deserialize<string[]>(File.ReadAllText(path)) : null;
        }
        catch (JsonException)
        {
            names = null;
        }
        if (names is null || names.Length < 2 || names.Any(n => n is null) || names.Distinct().Count() != names.Length)
            throw new InvalidDataException($"{path}: the run's class names must be a JSON list of two or more different strings, as loom train writes it");
        return names;
    }
}
