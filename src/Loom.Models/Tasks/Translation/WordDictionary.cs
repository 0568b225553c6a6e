namespace Loom.Models;

/// <summary>
/// The word-by-word dictionary baseline of translation: IBM Model 1 (Brown et al. 1993) lexical probabilities
/// t(target word | source word) learnt by EM from the training pairs (with a NULL source word that absorbs target
/// words nothing in the source explains), then each source word replaced by its most probable target word. A word
/// the training pairs never had is copied, as names mostly are.
/// </summary>
public sealed class WordDictionary
{
    /// <summary>The learnt dictionary's file in a run folder: one "source&lt;TAB&gt;target" line per source word.</summary>
    public const string FileName = "dictionary.tsv";

    private readonly Dictionary<string, string> _best;

    private WordDictionary(Dictionary<string, string> best) => _best = best;

    /// <summary>Source words with an entry.</summary>
    public int Count => _best.Count;

    /// <summary>Learns from (source, target) pairs, lower-cased and split into words as <see cref="WordTokenizer.Split(string)"/> does.</summary>
    public static WordDictionary Learn(IEnumerable<(string Source, string Target)> pairs, int iterations = 5)
    {
        var table = LexicalTable.Fit(pairs, iterations);
        var best = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int e = 1; e < table.SourceWords.Count; e++)
            if (table.Best(e) is string target) best[table.SourceWords[e]] = target;
        return new WordDictionary(best);
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

    /// <summary>
    /// Writes one "source&lt;TAB&gt;target" line per entry, in ordinal order of the source word. Words never hold white
    /// space (<see cref="WordTokenizer.Split(string)"/> splits there), so a tab separates them unambiguously.
    /// </summary>
    public void Save(string path) =>
        File.WriteAllLines(path, _best.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}\t{kv.Value}"));

    /// <summary>Reads what <see cref="Save"/> wrote; a malformed line is an error naming the file and the line.</summary>
    public static WordDictionary Load(string path)
    {
        var best = new Dictionary<string, string>(StringComparer.Ordinal);
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            var fields = line.Split('\t');
            if (fields.Length != 2 || fields[0].Length == 0 || fields[1].Length == 0)
                throw new InvalidDataException($"{path}:{number}: expected a source word, a tab and its target word, got '{line}'");
            if (!best.TryAdd(fields[0], fields[1]))
                throw new InvalidDataException($"{path}:{number}: '{fields[0]}' has a second entry");
        }
        return new WordDictionary(best);
    }
}

/// <summary>
/// IBM Model 1's lexical table t(f | e) after EM, over the (e, f) pairs that co-occur in some sentence pair only, held
/// in flat arrays (one slot per pair); source id 0 is the NULL word.
/// </summary>
internal sealed class LexicalTable
{
    public const string NullWord = "\u0000null";

    private readonly int[] _pairSource, _pairTarget, _best;
    private readonly double[] _t;

    private LexicalTable(string[] sourceWords, string[] targetWords, int[] pairSource, int[] pairTarget, double[] t)
    {
        (SourceWords, TargetWords, _pairSource, _pairTarget, _t) = (sourceWords, targetWords, pairSource, pairTarget, t);
        _best = new int[sourceWords.Length];
        Array.Fill(_best, -1);
        for (int s = 0; s < t.Length; s++)
        {
            int e = pairSource[s], b = _best[e];
            // Ties (rare after EM) go to the ordinally first word, so the same pairs give the same dictionary.
            if (b < 0 || t[s] > t[b] || (t[s] == t[b] && string.CompareOrdinal(targetWords[pairTarget[s]], targetWords[pairTarget[b]]) < 0)) _best[e] = s;
        }
    }

    /// <summary>Source words by id (0: <see cref="NullWord"/>).</summary>
    public IReadOnlyList<string> SourceWords { get; }

    public IReadOnlyList<string> TargetWords { get; }

    /// <summary>Co-occurring (e, f) pairs: the size of the table.</summary>
    public int Pairs => _t.Length;

    /// <summary>t(<paramref name="target"/> | <paramref name="source"/>), 0 for a pair that never co-occurred; a scan of the table, for tests.</summary>
    public double Probability(string source, string target)
    {
        for (int s = 0; s < _t.Length; s++)
            if (SourceWords[_pairSource[s]] == source && TargetWords[_pairTarget[s]] == target) return _t[s];
        return 0;
    }

    /// <summary>The most probable target word of source id <paramref name="e"/>; null when it co-occurred with none.</summary>
    public string? Best(int e) => _best[e] >= 0 ? TargetWords[_pairTarget[_best[e]]] : null;

    /// <summary>Runs <paramref name="iterations"/> EM iterations from t uniform over the target words each source word co-occurs with.</summary>
    public static LexicalTable Fit(IEnumerable<(string Source, string Target)> pairs, int iterations)
    {
        var sourceIds = new Dictionary<string, int>(StringComparer.Ordinal) { [NullWord] = 0 };
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
        var slotOf = new Dictionary<long, int>(MixedKey.Instance);
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
            // M-step: t(f | e) = count(e, f) / count(e).
            Array.Clear(totals);
            for (int s = 0; s < slotCount; s++) totals[slotSource[s]] += counts[s];
            for (int s = 0; s < slotCount; s++) t[s] = totals[slotSource[s]] > 0 ? counts[s] / totals[slotSource[s]] : 0;
        }
        return new LexicalTable(Words(sourceIds), Words(targetIds), [.. slotSource], [.. slotTarget], t);

        static int Id(Dictionary<string, int> ids, string word)
        {
            if (!ids.TryGetValue(word, out int id)) ids[word] = id = ids.Count;
            return id;
        }

        static string[] Words(Dictionary<string, int> ids)
        {
            var words = new string[ids.Count];
            foreach (var (word, id) in ids) words[id] = word;
            return words;
        }
    }

    /// <summary>
    /// A hash of a packed (e, f) key that spreads both halves over all bits. Int64's own hash is the xor of its halves,
    /// e ^ f: with both below ~20,000 the millions of pairs of the Bible share a few ten thousand hash codes, and lookups
    /// walked chains of hundreds (the fit on the Bible's 28,000 training verses spent minutes of CPU in
    /// Dictionary.FindValue; with this hash, about 6 s in all).
    /// </summary>
    private sealed class MixedKey : IEqualityComparer<long>
    {
        public static readonly MixedKey Instance = new();

        public bool Equals(long x, long y) => x == y;

        // Fibonacci hashing: the high half of the product by 2^64/φ depends on every bit of the key.
        public int GetHashCode(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32);
    }
}
