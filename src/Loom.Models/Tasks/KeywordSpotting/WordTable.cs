namespace Loom.Models;

/// <summary>
/// The translation step of cascade speech translation (recognition → text → translation): a table from English
/// words to another language's. Built in for the digits and the common command words in Spanish, French and German;
/// any other table is a UTF-8 file of "english&lt;TAB&gt;translation" lines.
/// </summary>
public sealed class WordTable
{
    private readonly Dictionary<string, string> _words;

    public WordTable(string language, IReadOnlyDictionary<string, string> words)
    {
        Language = language;
        _words = new Dictionary<string, string>(words, StringComparer.OrdinalIgnoreCase);
    }

    public string Language { get; }

    public IReadOnlyDictionary<string, string> Words => _words;

    /// <summary>The translation of <paramref name="word"/>, or null when the table lacks it.</summary>
    public string? Translate(string word) => _words.TryGetValue(word, out var t) ? t : null;

    private static readonly string[] English =
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"];

    private static readonly Dictionary<string, string[]> BuiltinTables = new()
    {
        ["es"] = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "sí", "no", "arriba", "abajo", "izquierda", "derecha", "encendido", "apagado", "alto", "adelante"],
        ["fr"] = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "oui", "non", "haut", "bas", "gauche", "droite", "allumé", "éteint", "stop", "allez"],
        ["de"] = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "ja", "nein", "hoch", "runter", "links", "rechts", "an", "aus", "halt", "los"],
    };

    /// <summary>The languages with a built-in table.</summary>
    public static IReadOnlyList<string> BuiltinLanguages => [.. BuiltinTables.Keys];

    /// <summary>The built-in table for <paramref name="language"/> (es, fr, de).</summary>
    public static WordTable Builtin(string language)
    {
        if (!BuiltinTables.TryGetValue(language, out var words))
            throw new ArgumentException($"--to {language}: no built-in word table (built-in: {string.Join(", ", BuiltinTables.Keys)}); give one with --table FILE");
        return new WordTable(language, English.Zip(words).ToDictionary(p => p.First, p => p.Second));
    }

    /// <summary>A table read from "english&lt;TAB&gt;translation" lines; blank lines and lines starting with # are skipped.</summary>
    public static WordTable Read(string path, string language)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--table {path}: no such file", path);
        var words = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            var parts = line.Split('\t');
            if (parts.Length != 2 || parts[0].Trim().Length == 0 || parts[1].Trim().Length == 0)
                throw new InvalidDataException($"{path}:{number}: expected \"english<TAB>translation\", got \"{line}\"");
            if (!words.TryAdd(parts[0].Trim(), parts[1].Trim()))
                throw new InvalidDataException($"{path}:{number}: '{parts[0].Trim()}' is translated twice");
        }
        if (words.Count == 0) throw new InvalidDataException($"{path}: no translations");
        return new WordTable(language, words);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Language}: {_words.Count} words");
}
