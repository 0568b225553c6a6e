using System.Text.RegularExpressions;

namespace Loom.Data;

/// <summary>
/// One id per word, for text classification and translation: text is lower-cased and split into words (letters and
/// digits, with inner apostrophes and hyphens kept, so "don't" and "jean-claude" stay whole) and single punctuation
/// marks. The vocabulary is the words of the training text seen at least a minimum number of times, most frequent
/// first, after the reserved special tokens (<see cref="SpecialTokens.Reserved"/>); any other word is unk.
/// </summary>
public sealed partial class WordTokenizer : ITokenizer
{
    private readonly string[] _words;
    private readonly Dictionary<string, int> _ids;

    public WordTokenizer(IEnumerable<string> words)
    {
        _words = words.ToArray();
        _ids = new Dictionary<string, int>(_words.Length, StringComparer.Ordinal);
        for (int i = 0; i < _words.Length; i++)
        {
            var w = _words[i];
            if (string.IsNullOrEmpty(w) || Split(w) is not [var only] || only != w)
                throw new ArgumentException($"WordTokenizer: '{w}' is not a single word as the tokenizer splits text");
            if (!_ids.TryAdd(w, i + SpecialTokens.ReservedCount)) throw new ArgumentException($"WordTokenizer: '{w}' is listed twice");
        }
    }

    /// <summary>
    /// The vocabulary of <paramref name="texts"/>: words seen at least <paramref name="minCount"/> times, the most
    /// frequent first (ties in ordinal order, so the same text gives the same ids), at most <paramref name="maxWords"/>.
    /// </summary>
    public static WordTokenizer Fit(IEnumerable<string> texts, int minCount = 1, int maxWords = int.MaxValue)
    {
        if (minCount < 1) throw new ArgumentException($"minCount must be at least 1, got {minCount}");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var word in Split(text))
                counts[word] = counts.GetValueOrDefault(word) + 1;
        return new WordTokenizer(counts.Where(kv => kv.Value >= minCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(maxWords).Select(kv => kv.Key));
    }

    public string Kind => "word";

    public int VocabSize => SpecialTokens.ReservedCount + _words.Length;

    public SpecialTokens Special => SpecialTokens.Reserved;

    /// <summary>The vocabulary's words in id order (after the special tokens).</summary>
    public IReadOnlyList<string> Words => _words;

    /// <summary>The words and punctuation marks of <paramref name="text"/>, lower-cased, as the tokenizer sees them.</summary>
    public static List<string> Split(string text) => Split(text, lowerCase: true);

    /// <summary>The words and punctuation marks of <paramref name="text"/>, lower-cased or as written (a translation baseline restores capitals from them).</summary>
    public static List<string> Split(string text, bool lowerCase)
    {
        var words = new List<string>();
        foreach (Match m in WordPattern().Matches(lowerCase ? text.ToLowerInvariant() : text)) words.Add(m.Value);
        return words;
    }

    public int[] Encode(string text)
    {
        var words = Split(text);
        var ids = new int[words.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = _ids.TryGetValue(words[i], out int id) ? id : SpecialTokens.Reserved.Unk!.Value;
        return ids;
    }

    /// <summary>The words joined by spaces (special tokens left out, unk shown as &lt;unk&gt;).</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var words = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if (id == SpecialTokens.Reserved.Unk) words.Add("<unk>");
            else if (id >= SpecialTokens.ReservedCount && id < VocabSize) words.Add(_words[id - SpecialTokens.ReservedCount]);
            else if (id < 0 || id >= VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary of {VocabSize}");
        }
        return string.Join(' ', words);
    }

    /// <summary>The id of <paramref name="word"/>, or null when the vocabulary lacks it.</summary>
    public int? Id(string word) => _ids.TryGetValue(word, out int id) ? id : null;

    public void Save(string path) =>
        JsonFile.Write(path, new TokenizerFile(Kind, Words: _words));

    // Words: letters/digits with inner apostrophes or hyphens ("don't", "21st", "x-men"); anything else that is not
    // space is one token per character, so punctuation carries its own id.
    [GeneratedRegex(@"[\p{L}\p{N}]+(?:['’\-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]")]
    private static partial Regex WordPattern();
}
