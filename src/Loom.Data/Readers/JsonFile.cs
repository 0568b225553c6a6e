using System.Text.Json;

namespace Loom.Data;

/// <summary>How Loom.Data keeps fitted state (feature schemas, standardisation statistics) on disk: indented camelCase JSON.</summary>
internal static class JsonFile
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public static void Write<T>(string path, T value) => File.WriteAllText(path, JsonSerializer.Serialize(value, Options));

    /// <summary>The file's value (null for a JSON null); malformed JSON is an <see cref="InvalidDataException"/> naming the file and <paramref name="what"/> it should be.</summary>
    public static T? Read<T>(string path, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not {what} ({ex.Message})", ex);
        }
    }
}
