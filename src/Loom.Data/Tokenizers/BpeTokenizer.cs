using System.Collections.Concurrent;
using System.Globalization;

namespace Loom.Data;

/// <summary>
/// Byte-level BPE with merges learnt on the user's corpus (<see cref="BpeTrainer"/>). Ids: 0–3 the reserved special
/// tokens, 4–259 the 256 bytes, then one id per merge in the order learnt. A pre-token (<see cref="ByteLevel"/>) starts
/// as its bytes; the adjacent pair with the earliest merge is merged everywhere in it, and again until no pair has a
/// merge — the rule GPT-2's encoder applies to its own merges.
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    private readonly (int Left, int Right)[] _merges;
    private readonly Dictionary<(int, int), int> _rank;
    private readonly byte[][] _bytes;
    // Words repeat: each distinct pre-token is merged once. Bounded so that an endless stream of new words cannot grow it forever.
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private const int CacheLimit = 1 << 18;

    /// <param name="merges">(left id, right id) of each merge, in the order learnt; merge i makes id 260 + i.</param>
    public BpeTokenizer(IReadOnlyList<(int Left, int Right)> merges)
    {
        _merges = [.. merges];
        _rank = new Dictionary<(int, int), int>(_merges.Length);
        _bytes = new byte[ByteLevel.FirstMergeId + _merges.Length][];
        for (int b = 0; b < 256; b++) _bytes[ByteLevel.FirstByteId + b] = [(byte)b];
        for (int i = 0; i < _merges.Length; i++)
        {
            var (l, r) = _merges[i];
            int id = ByteLevel.FirstMergeId + i;
            if (l < ByteLevel.FirstByteId || r < ByteLevel.FirstByteId || l >= id || r >= id)
                throw new ArgumentException($"BPE merge {i} joins ids {l} and {r}; a merge may join only byte ids and earlier merges (4..{id - 1})");
            if (!_rank.TryAdd((l, r), i)) throw new ArgumentException($"BPE merge {i} repeats the pair ({l}, {r})");
            _bytes[id] = [.. _bytes[l], .. _bytes[r]];
        }
    }

    public string Kind => "bpe";

    public int VocabSize => ByteLevel.FirstMergeId + _merges.Length;

    public SpecialTokens Special => SpecialTokens.Reserved;

    /// <summary>The merges, in the order learnt.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges => _merges;

    /// <summary>The bytes token <paramref name="id"/> stands for (empty for special tokens).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => (uint)id < (uint)_bytes.Length && _bytes[id] is { } b ? b : [];

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 1);
        foreach (var preToken in ByteLevel.PreTokens(text))
        {
            if (!_cache.TryGetValue(preToken, out var word))
            {
                word = EncodeWord(ByteLevel.Bytes(preToken));
                if (_cache.Count < CacheLimit) _cache.TryAdd(preToken, word);
            }
            ids.AddRange(word);
        }
        return [.. ids];
    }

    /// <summary>Applies the merges to one pre-token's byte ids, earliest merge first.</summary>
    internal int[] EncodeWord(int[] symbols)
    {
        var word = new List<int>(symbols);
        while (word.Count > 1)
        {
            int best = int.MaxValue;
            for (int i = 0; i + 1 < word.Count; i++)
                if (_rank.TryGetValue((word[i], word[i + 1]), out int r) && r < best) best = r;
            if (best == int.MaxValue) break;
            var (left, right) = _merges[best];
            int merged = ByteLevel.FirstMergeId + best;
            int w = 0;
            for (int i = 0; i < word.Count; i++)
            {
                if (i + 1 < word.Count && word[i] == left && word[i + 1] == right)
                {
                    word[w++] = merged;
                    i++;
                }
                else word[w++] = word[i];
            }
            word.RemoveRange(w, word.Count - w);
        }
        return [.. word];
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 3);
        foreach (int id in ids)
        {
            if (id == SpecialTokens.Reserved.Unk) bytes.AddRange("\uFFFD"u8);
            else bytes.AddRange(TokenBytes(id));
        }
        // A sequence cut inside a character (a streamed prefix) decodes that character as U+FFFD.
        return Encoding.UTF8.GetString([.. bytes]);
    }

    public void Save(string path) =>
        JsonFile.Write(path, new TokenizerFile(Kind, VocabSize: VocabSize, Merges: [.. _merges.Select(m => $"{m.Left} {m.Right}")]));

    internal static BpeTokenizer FromFile(TokenizerFile file)
    {
        var merges = (file.Merges ?? throw new InvalidDataException("no merges")).Select(m => m.Split(' ') is [var l, var r]
            ? (int.Parse(l, CultureInfo.InvariantCulture), int.Parse(r, CultureInfo.InvariantCulture))
            : throw new InvalidDataException($"merge '{m}' is not two ids")).ToList();
        var tokenizer = new BpeTokenizer(merges);
        if (file.VocabSize is int size && size != tokenizer.VocabSize)
            throw new InvalidDataException($"the file says {size} tokens but its merges make {tokenizer.VocabSize}");
        return tokenizer;
    }
}
