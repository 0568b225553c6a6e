namespace Loom.Data;

/// <summary>
/// One id per Unicode character (code point, so an emoji is one token, not two UTF-16 halves): the characters of the
/// training text in code-point order after the reserved special tokens (<see cref="SpecialTokens.Reserved"/>).
/// A character the training text lacks encodes as unk and decodes as U+FFFD.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    private readonly int[] _codePoints;
    private readonly Dictionary<int, int> _ids;

    public CharTokenizer(IEnumerable<int> codePoints)
    {
        _codePoints = codePoints.Distinct().Order().ToArray();
        foreach (var c in _codePoints)
            if (!Rune.IsValid(c)) throw new ArgumentException($"CharTokenizer: {c:X} is not a Unicode scalar value");
        _ids = _codePoints.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i + SpecialTokens.ReservedCount);
    }

    /// <summary>The vocabulary of every character in <paramref name="texts"/>.</summary>
    public static CharTokenizer Fit(IEnumerable<string> texts)
    {
        var seen = new HashSet<int>();
        foreach (var text in texts)
            foreach (var rune in text.EnumerateRunes()) seen.Add(rune.Value);
        return new CharTokenizer(seen);
    }

    public string Kind => "char";

    public int VocabSize => SpecialTokens.ReservedCount + _codePoints.Length;

    public SpecialTokens Special => SpecialTokens.Reserved;

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
            ids.Add(_ids.TryGetValue(rune.Value, out int id) ? id : SpecialTokens.Reserved.Unk!.Value);
        return [.. ids];
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            int k = id - SpecialTokens.ReservedCount;
            if ((uint)k < (uint)_codePoints.Length) sb.Append(new Rune(_codePoints[k]).ToString());
            else if (id == SpecialTokens.Reserved.Unk) sb.Append('\uFFFD');
        }
        return sb.ToString();
    }

    public void Save(string path) => JsonFile.Write(path, new TokenizerFile(Kind, CodePoints: _codePoints));
}
