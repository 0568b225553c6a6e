using Loom.Data;

namespace Loom.Models;

/// <summary>
/// The word-by-word dictionary baseline of translation: IBM Model 1 (Brown et al. 1993) lexical probabilities
/// t(target word | source word) learnt by EM from the training pairs (with a NULL source word that absorbs target
/// words nothing in the source explains), then each source word replaced by its most probable target word. A word
/// the training pairs never had is copied, as names mostly are.
/// </summary>
public sealed class WordDictionary
{
    private const string Null = "\u0000null";
    private readonly Dictionary<string, string> _best;

    private WordDictionary(Dictionary<string, string> best) => _best = best;

    /// <summary>Source words with an entry.</summary>
    public int Count => _best.Count;

    /// <summary>Learns from (source, target) pairs, lower-cased and split into words as <see cref="WordTokenizer.Split(string)"/> does.</summary>
    public static WordDictionary Learn(IEnumerable<(string Source, string Target)> pairs, int iterations = 5)
    {
        var sourceIds = new Dictionary<string, int>(StringComparer.Ordinal) { [Null] = 0 };
        var targetIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var sentences = new List<(int[] Source, int[] Target)>();
        foreach (var (sourceText, targetText) in pairs)
        {
            var e = WordTokenizer.Split(sourceText).Select(w => Id(sourceIds, w)).Prepend(0).ToArray();
            var f = WordTokenizer.Split(targetText).Select(w => Id(targetIds, w)).ToArray();
            sentences.Add((e, f));
        }
        // Every co-occurring (e, f) gets one slot of a flat table; each sentence lists the slots of its |E|·|F| pairs,
        // so that EM runs over arrays rather than hash lookups.
        var slotOf = new Dictionary<long, int>();
        var slotSource = new List<int>();
        var slotTarget = new List<int>();
        var sentenceSlots = new int[sentences.Count][];
        for (int k = 0; k < sentences.Count; k++)
        {
            var (e, f) = sentences[k];
            var slots = sentenceSlots[k] = new int[e.Length * f.Length];
            for (int j = 0; j < f.Length; j++)
                for (int i = 0; i < e.Length; i++)
                {
                    long key = ((long)e[i] << 32) | (uint)f[j];
                    if (!slotOf.TryGetValue(key, out int slot))
                    {
                        slotOf[key] = slot = slotSource.Count;
                        slotSource.Add(e[i]);
                        slotTarget.Add(f[j]);
                    }
                    slots[j * e.Length + i] = slot;
                }
        }
        int slotCount = slotSource.Count;
        // t(f | e) starts uniform over the target words each source word co-occurs with.
        var perSource = new int[sourceIds.Count];
        foreach (int e in slotSource) perSource[e]++;
        var t = new double[slotCount];
        for (int s = 0; s < slotCount; s++) t[s] = 1.0 / perSource[slotSource[s]];
        var counts = new double[slotCount];
        var totals = new double[sourceIds.Count];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            Array.Clear(counts);
            for (int k = 0; k < sentences.Count; k++)
            {
                int m = sentences[k].Source.Length, n = sentences[k].Target.Length;
                var slots = sentenceSlots[k];
                for (int j = 0; j < n; j++)
                {
                    // E-step: target word j is explained by the source words in proportion to t(f | e).
                    double z = 0;
                    for (int i = 0; i < m; i++) z += t[slots[j * m + i]];
                    for (int i = 0; i < m; i++) counts[slots[j * m + i]] += t[slots[j * m + i]] / z;
                }
            }
            Array.Clear(totals);
            for (int s = 0; s < slotCount; s++) totals[slotSource[s]] += counts[s];
            for (int s = 0; s < slotCount; s++) t[s] = totals[slotSource[s]] > 0 ? counts[s] / totals[slotSource[s]] : 0;
        }
        var sourceWords = sourceIds.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        var targetWords = targetIds.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        var bestSlot = new int[sourceIds.Count];
        Array.Fill(bestSlot, -1);
        for (int s = 0; s < slotCount; s++)
        {
            int e = slotSource[s], b = bestSlot[e];
            // Ties (rare after EM) go to the ordinally first word, so the same pairs give the same dictionary.
            if (b < 0 || t[s] > t[b] || (t[s] == t[b] && string.CompareOrdinal(targetWords[slotTarget[s]], targetWords[slotTarget[b]]) < 0)) bestSlot[e] = s;
        }
        var best = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int e = 1; e < sourceWords.Length; e++)
            if (bestSlot[e] >= 0) best[sourceWords[e]] = targetWords[slotTarget[bestSlot[e]]];
        return new WordDictionary(best);

        static int Id(Dictionary<string, int> ids, string word)
        {
            if (!ids.TryGetValue(word, out int id)) ids[word] = id = ids.Count;
            return id;
        }
    }

    /// <summary>The most probable target word for <paramref name="word"/> (lower case); null when the training pairs never had it.</summary>
    public string? Lookup(string word) => _best.GetValueOrDefault(word);

    /// <summary>
    /// Each word and punctuation mark replaced by its dictionary entry (unknown ones copied), joined by spaces, with the
    /// source word's leading capital restored: BLEU is scored cased against the real references, as the model's is, so
    /// the baseline must not lose every sentence-initial capital and name to lower-casing.
    /// </summary>
    public string Translate(string source) =>
        string.Join(' ', WordTokenizer.Split(source, lowerCase: false).Select(word =>
        {
            string lower = word.ToLowerInvariant(), translated = _best.GetValueOrDefault(lower, lower);
            return char.IsUpper(word[0]) && translated.Length > 0 ? char.ToUpperInvariant(translated[0]) + translated[1..] : translated;
        }));
}
