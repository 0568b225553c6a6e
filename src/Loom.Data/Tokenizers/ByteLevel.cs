using System.Text.RegularExpressions;

namespace Loom.Data;

/// <summary>
/// What Loom's byte-level BPE shares between training and encoding: text is cut into pre-tokens by GPT-2's pattern
/// (contractions, an optional space and a run of letters, of digits, or of other symbols, runs of white space), so no
/// merge crosses a word boundary, and each pre-token is encoded as its UTF-8 bytes, ids 4–259 (after the reserved
/// special tokens). Every string, Chinese and emoji included, is therefore expressible and round-trips exactly.
/// </summary>
internal static partial class ByteLevel
{
    public const int FirstByteId = SpecialTokens.ReservedCount;
    public const int FirstMergeId = FirstByteId + 256;

    // GPT-2's pre-tokenizer pattern (encoder.py in openai/gpt-2).
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    public static partial Regex PreTokenPattern();

    /// <summary>The pre-tokens of <paramref name="text"/>, in order; together they are the text.</summary>
    public static List<string> PreTokens(string text)
    {
        var tokens = new List<string>();
        foreach (var match in PreTokenPattern().EnumerateMatches(text))
            tokens.Add(text.Substring(match.Index, match.Length));
        return tokens;
    }

    /// <summary>The byte ids of a pre-token.</summary>
    public static int[] Bytes(string preToken)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(preToken);
        var ids = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) ids[i] = FirstByteId + bytes[i];
        return ids;
    }
}
