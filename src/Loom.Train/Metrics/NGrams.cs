namespace Loom.Train;

/// <summary>The n-gram counts BLEU and ROUGE-N clip against each other.</summary>
internal static class NGrams
{
    /// <summary>
    /// How often each run of <paramref name="n"/> consecutive words occurs in <paramref name="words"/>, keyed by the
    /// words joined with a space: both tokenisers split at white space, so no word holds one and two different n-grams
    /// cannot share a key.
    /// </summary>
    public static Dictionary<string, int> Count(string[] words, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= words.Length; i++)
        {
            var gram = string.Join(' ', words, i, n);
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }
}
