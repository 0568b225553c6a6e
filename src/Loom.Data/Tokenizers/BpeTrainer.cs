namespace Loom.Data;

/// <summary>
/// Learns byte-level BPE merges from a corpus (Sennrich et al. 2016, on bytes as GPT-2 does): start from the 256 byte
/// tokens of every pre-token (<see cref="ByteLevel"/>), then repeatedly merge the most frequent adjacent pair — ties
/// to the pair of smaller ids — into a new token, until the vocabulary has the size asked for or no pair occurs
/// <c>minFrequency</c> times. Pair counts are updated only for the words a merge touches, and a lazily invalidated
/// priority queue finds the next pair, so thousands of merges over a novel take a second or two.
/// </summary>
public static class BpeTrainer
{
    /// <summary>The smallest vocabulary: the reserved special tokens and the 256 bytes.</summary>
    public const int MinVocabSize = ByteLevel.FirstMergeId;

    /// <param name="texts">The training text.</param>
    /// <param name="vocabSize">Ids wanted, special tokens and bytes included (at least 260).</param>
    /// <param name="minFrequency">A pair seen fewer times is never merged.</param>
    public static BpeTokenizer Train(IEnumerable<string> texts, int vocabSize, int minFrequency = 2)
    {
        if (vocabSize < MinVocabSize) throw new ArgumentException($"--vocab-size must be at least {MinVocabSize} (4 special tokens and 256 bytes), got {vocabSize}");
        if (minFrequency < 1) throw new ArgumentException($"BpeTrainer: minFrequency must be at least 1, got {minFrequency}");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var preToken in ByteLevel.PreTokens(text))
                counts[preToken] = counts.GetValueOrDefault(preToken) + 1;
        return TrainOnWords(counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (ByteLevel.Bytes(kv.Key), kv.Value)), vocabSize, minFrequency);
    }

    /// <summary>Merges learnt from words given as symbol ids with their counts.</summary>
    internal static BpeTokenizer TrainOnWords(IEnumerable<(int[] Symbols, long Count)> input, int vocabSize, int minFrequency)
    {
        var words = new List<List<int>>();
        var freq = new List<long>();
        foreach (var (symbols, count) in input)
        {
            words.Add([.. symbols]);
            freq.Add(count);
        }
        var pairCount = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        var queue = new PriorityQueue<(int, int), (long, int, int)>();
        for (int w = 0; w < words.Count; w++) AddPairs(w, +1, null);
        foreach (var (pair, count) in pairCount) queue.Enqueue(pair, (-count, pair.Item1, pair.Item2));

        var merges = new List<(int, int)>();
        while (ByteLevel.FirstMergeId + merges.Count < vocabSize && queue.TryDequeue(out var pair, out var priority))
        {
            long count = -priority.Item1;
            if (pairCount.GetValueOrDefault(pair) != count) continue; // a stale entry: the count changed since it was queued
            if (count < minFrequency) break;
            int merged = ByteLevel.FirstMergeId + merges.Count;
            merges.Add(pair);
            var changed = new HashSet<(int, int)>();
            foreach (int w in pairWords[pair].ToArray())
            {
                var word = words[w];
                if (!Contains(word, pair)) continue;
                AddPairs(w, -1, changed);
                int k = 0;
                for (int i = 0; i < word.Count; i++)
                {
                    if (i + 1 < word.Count && word[i] == pair.Item1 && word[i + 1] == pair.Item2)
                    {
                        word[k++] = merged;
                        i++;
                    }
                    else word[k++] = word[i];
                }
                word.RemoveRange(k, word.Count - k);
                AddPairs(w, +1, changed);
            }
            foreach (var p in changed)
                if (pairCount.GetValueOrDefault(p) is > 0 and var c) queue.Enqueue(p, (-c, p.Item1, p.Item2));
        }
        return new BpeTokenizer(merges);

        void AddPairs(int w, int sign, HashSet<(int, int)>? changed)
        {
            var word = words[w];
            for (int i = 0; i + 1 < word.Count; i++)
            {
                var p = (word[i], word[i + 1]);
                pairCount[p] = pairCount.GetValueOrDefault(p) + sign * freq[w];
                if (sign > 0)
                {
                    if (!pairWords.TryGetValue(p, out var set)) pairWords[p] = set = [];
                    set.Add(w);
                }
                changed?.Add(p);
            }
        }
    }

    private static bool Contains(List<int> word, (int, int) pair)
    {
        for (int i = 0; i + 1 < word.Count; i++)
            if (word[i] == pair.Item1 && word[i + 1] == pair.Item2) return true;
        return false;
    }
}
