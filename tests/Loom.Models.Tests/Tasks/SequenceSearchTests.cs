namespace Loom.Models.Tests.Tasks;

/// <summary>Greedy and beam search against exhaustive enumeration, and cached decoding against recomputing every prefix.</summary>
public sealed class SequenceSearchTests
{
    private const int Eos = 0;

    /// <summary>
    /// A decoder over tokens {eos, 1, 2} whose next-token distribution is a fixed function of the row's prefix (given,
    /// or drawn from a seed per prefix), so every sequence's probability can be enumerated.
    /// </summary>
    private sealed class ToyDecoder(int rows, Func<IReadOnlyList<int>, double[]> distribution) : IStepDecoder
    {
        private List<int>[] _prefixes = [.. Enumerable.Range(0, rows).Select(_ => new List<int>())];
        private bool _started;

        public int Vocab => 3;

        public float[] Step(int[] tokens, int[]? parents)
        {
            if (_started)
                _prefixes = [.. tokens.Select((t, r) => new List<int>(_prefixes[parents?[r] ?? r]) { t })];
            _started = true;
            return [.. _prefixes.SelectMany(p => distribution(p).Select(x => (float)Math.Log(x)))];
        }
    }

    private static double[] Seeded(IReadOnlyList<int> prefix, int seed)
    {
        var random = new System.Random(prefix.Aggregate(seed * 7919 + 17, (h, t) => h * 31 + t + 1));
        var p = Enumerable.Range(0, 3).Select(_ => 0.05 + random.NextDouble()).ToArray();
        return [.. p.Select(x => x / p.Sum())];
    }

    // Every sequence beam search may return: k words then eos (k < maxLength), or maxLength words cut by the limit.
    private static IEnumerable<(int[] Tokens, double LogProbability, int Length)> Enumerate(Func<IReadOnlyList<int>, double[]> distribution, int maxLength)
    {
        var frontier = new List<(List<int> Prefix, double LogP)> { ([], 0) };
        for (int depth = 0; depth < maxLength; depth++)
        {
            var next = new List<(List<int>, double)>();
            foreach (var (prefix, logP) in frontier)
            {
                var p = distribution(prefix);
                yield return ([.. prefix], logP + Math.Log(p[Eos]), prefix.Count + 1);
                foreach (int w in new[] { 1, 2 })
                {
                    var longer = new List<int>(prefix) { w };
                    if (longer.Count == maxLength) yield return ([.. longer], logP + Math.Log(p[w]), maxLength);
                    else next.Add((longer, logP + Math.Log(p[w])));
                }
            }
            frontier = next;
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.6)]
    [InlineData(1.0)]
    public void A_beam_wide_enough_to_keep_every_prefix_finds_the_highest_scoring_sequence(double alpha)
    {
        const int maxLength = 5, beam = 1 << maxLength;
        for (int seed = 0; seed < 6; seed++)
        {
            double[] Distribution(IReadOnlyList<int> prefix) => Seeded(prefix, seed);
            var best = Enumerate(Distribution, maxLength)
                .Select(s => (s.Tokens, Score: s.LogProbability / SequenceSearch.LengthPenalty(s.Length, alpha)))
                .MaxBy(s => s.Score);
            // Two sentences in one batch, searched independently.
            var found = SequenceSearch.Beam(new ToyDecoder(2 * beam, Distribution), 2, beam, bos: 2, Eos, [maxLength, maxLength], alpha);
            foreach (var hypotheses in found)
            {
                Assert.Equal(best.Tokens, hypotheses[0].Tokens);
                Assert.Equal(best.Score, hypotheses[0].Score, 5);
                Assert.True(hypotheses.Zip(hypotheses.Skip(1)).All(p => p.First.Score >= p.Second.Score), "hypotheses come best first");
            }
        }
    }

    [Fact]
    public void Beam_search_finds_a_sequence_greedy_decoding_misses()
    {
        // 1 is the likelier first word (0.6), but every continuation of it is poor, while 2 is almost surely followed by eos:
        // [2, eos] has probability 0.4 · 0.95 = 0.38, [1, …] at most 0.6 · 0.4.
        static double[] Distribution(IReadOnlyList<int> prefix) => prefix switch
        {
            [] => [0.0001, 0.6, 0.3999],
            [1, ..] => [0.3, 0.4, 0.3],
            [2] => [0.95, 0.025, 0.025],
            _ => [0.4, 0.3, 0.3],
        };
        var greedy = SequenceSearch.Greedy(new ToyDecoder(1, Distribution), 1, bos: 2, Eos, [4]);
        Assert.Equal([1, 1, 1, 1], greedy[0]);
        var beam = SequenceSearch.Beam(new ToyDecoder(2, Distribution), 1, 2, bos: 2, Eos, [4], alpha: 0);
        Assert.Equal([2], beam[0][0].Tokens);
        Assert.Equal(Math.Log(0.3999 * 0.95), beam[0][0].LogProbability, 5);
    }

    [Fact]
    public void Greedy_decoding_stops_each_row_at_eos_or_its_length_limit()
    {
        static double[] Distribution(IReadOnlyList<int> prefix) => prefix.Count == 2 ? [0.9, 0.05, 0.05] : [0.1, 0.6, 0.3];
        var rows = SequenceSearch.Greedy(new ToyDecoder(2, Distribution), 2, bos: 2, Eos, [5, 1]);
        Assert.Equal([1, 1], rows[0]);
        Assert.Equal([1], rows[1]);
    }

    /// <summary>Decodes by running the whole prefix through the decoder at every step: no cache to reorder.</summary>
    private sealed class Recomputing(Seq2SeqTransformer model, Seq2SeqTransformer.Encoding source) : IStepDecoder
    {
        private List<int>[]? _prefixes;

        public int Vocab => model.Outputs;

        public float[] Step(int[] tokens, int[]? parents)
        {
            _prefixes = _prefixes is null
                ? [.. tokens.Select(t => new List<int> { t })]
                : [.. tokens.Select((t, r) => new List<int>(_prefixes[parents?[r] ?? r]) { t })];
            int b = tokens.Length, t = _prefixes[0].Count;
            var ids = Tensor.FromArray(_prefixes.SelectMany(p => p.Select(x => (long)x)).ToArray(), b, t);
            using var noGrad = new NoGrad();
            var scores = model.Decode(ids, source, null, 0).Select(1, t - 1);
            return (model.Copy is null ? scores.LogSoftmax(-1) : scores).ToArray<float>();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cached_beam_search_reorders_the_transformer_cache_to_match_recomputing_every_prefix(bool copy)
    {
        Loom.Random.Generator.ManualSeed(5);
        // With copying, the source's 13 is an extended id (vocabulary 12, 3 extended): the copy keys are reordered too.
        var model = new Seq2SeqTransformer(vocab: 12, dim: 16, layers: 2, heads: 2, dropout: 0, copy: copy ? new CopyMechanism(3, Unknown: 3) : null);
        model.Eval();
        // Two sentences, the second padded; a beam of 3 copies each.
        var source = Tensor.FromArray(new long[] { 5, 6, copy ? 13 : 7, 8, 2, 9, 4, 2, 0, 0 }, 2, 5);
        const int beam = 3;
        var rows = Tensor.FromArray(Enumerable.Range(0, 2 * beam).Select(r => (long)(r / beam)).ToArray());
        var encoding = model.Encode(source);
        var slow = new Recomputing(model, encoding.Rows(rows));
        int[] limits = [6, 6];
        var expected = SequenceSearch.Beam(slow, 2, beam, bos: 1, eos: 2, limits, alpha: 0.6);
        var cached = SequenceSearch.Beam(model.StartDecoding(source, beam), 2, beam, bos: 1, eos: 2, limits, alpha: 0.6);
        for (int s = 0; s < 2; s++)
        {
            Assert.Equal(expected[s].Select(h => h.Tokens), cached[s].Select(h => h.Tokens));
            Assert.Equal(expected[s].Select(h => h.Score), cached[s].Select(h => h.Score), (a, b) => Math.Abs(a - b) < 1e-4);
        }
        var greedy = SequenceSearch.Greedy(model.StartDecoding(source, 1), 2, bos: 1, eos: 2, limits);
        var greedySlow = SequenceSearch.Greedy(new Recomputing(model, encoding), 2, bos: 1, eos: 2, limits);
        Assert.Equal(greedySlow, greedy);
    }
}
