namespace Loom.Models;

/// <summary>
/// A decoder seen one step at a time, as greedy and beam search drive it: it holds one row per live hypothesis (its
/// source sentence's encoding and whatever it caches of the prefix) and scores the next token of every row.
/// </summary>
public interface IStepDecoder
{
    /// <summary>Token ids the decoder scores.</summary>
    int Vocab { get; }

    /// <summary>
    /// Feeds one token per row and returns log-probabilities of the next token, [rows · Vocab] row-major.
    /// <paramref name="parents"/>[r] is the row (of the previous call) that row r continues; null when every row continues
    /// itself. The first call's parents index the rows the decoder was created with.
    /// </summary>
    float[] Step(int[] tokens, int[]? parents);
}

/// <summary>
/// A decoder whose <paramref name="banned"/> tokens are never chosen, and whose <paramref name="eos"/> is not chosen
/// before <paramref name="minLength"/> tokens (their log-probabilities are −∞, which both searches skip): a summary
/// that must say something, without the unknown word that would only be dropped from the text.
/// </summary>
public sealed class ConstrainedDecoder(IStepDecoder inner, int eos, int minLength, IReadOnlyCollection<int> banned) : IStepDecoder
{
    private int _step;

    public int Vocab => inner.Vocab;

    public float[] Step(int[] tokens, int[]? parents)
    {
        var scores = inner.Step(tokens, parents);
        int v = Vocab;
        for (int r = 0; r < tokens.Length; r++)
        {
            foreach (int t in banned) scores[r * v + t] = float.NegativeInfinity;
            if (_step < minLength) scores[r * v + eos] = float.NegativeInfinity;
        }
        _step++;
        return scores;
    }
}

/// <summary>An encoded source batch whose rows can be picked: repeated for the hypotheses of beam search.</summary>
internal interface IEncodingRows<TSelf> where TSelf : IEncodingRows<TSelf>
{
    /// <summary>Row i is the old row <paramref name="rows"/>[i].</summary>
    TSelf Rows(Tensor rows);
}

/// <summary>One finished hypothesis: its tokens (without bos and eos), log-probability and length-normalised score.</summary>
public sealed record Hypothesis(int[] Tokens, double LogProbability, double Score);

/// <summary>
/// Greedy and beam search over an <see cref="IStepDecoder"/>, for a batch of source sentences at once. Beam search
/// ranks finished hypotheses by GNMT's length-normalised score log p(y) / ((5 + |y|) / 6)^α (Wu et al. 2016; |y| counts
/// the eos), so that long translations are not beaten by short ones merely for having fewer factors below one.
/// </summary>
public static class SequenceSearch
{
    /// <summary>
    /// <see cref="ISequenceToSequence.StartDecoding"/> of a model that encodes a source batch once and decodes from the
    /// encoding: <paramref name="encode"/> the source cut to its longest row, without gradients, give sentence b the
    /// rows b·copies … b·copies + copies − 1 of the encoding, and start <paramref name="decoder"/> on it.
    /// </summary>
    internal static IStepDecoder StartDecoding<TEncoding>(Tensor source, int copies, Func<Tensor, TEncoding> encode, Func<TEncoding, IStepDecoder> decoder)
        where TEncoding : IEncodingRows<TEncoding>
    {
        using var noGrad = new NoGrad();
        var encoding = encode(SentencePairs.Trim(source));
        if (copies > 1) encoding = encoding.Rows(CopyRows(source.Shape[0], copies));
        return decoder(encoding);
    }

    /// <summary>For each of the B · <paramref name="copies"/> decoder rows, the sentence it decodes (row r: sentence r / copies).</summary>
    private static Tensor CopyRows(int sentences, int copies) =>
        Tensor.FromArray(Enumerable.Range(0, sentences * copies).Select(r => (long)(r / copies)).ToArray());

    /// <summary>GNMT's length penalty ((5 + length) / 6)^α.</summary>
    public static double LengthPenalty(int length, double alpha) => alpha == 0 ? 1 : Math.Pow((5.0 + length) / 6.0, alpha);

    /// <summary>
    /// The most probable next token at every step, for <paramref name="sentences"/> rows of <paramref name="decoder"/>,
    /// until each row produces <paramref name="eos"/> or <paramref name="maxLength"/>[row] tokens.
    /// </summary>
    public static int[][] Greedy(IStepDecoder decoder, int sentences, int bos, int eos, int[] maxLength)
    {
        var output = Enumerable.Range(0, sentences).Select(_ => new List<int>()).ToArray();
        var done = new bool[sentences];
        var tokens = Enumerable.Repeat(bos, sentences).ToArray();
        int v = decoder.Vocab;
        while (!done.All(d => d))
        {
            var logProbs = decoder.Step(tokens, null);
            for (int r = 0; r < sentences; r++)
            {
                if (done[r]) { tokens[r] = eos; continue; }
                int best = ArgMax(logProbs.AsSpan(r * v, v));
                tokens[r] = best;
                if (best == eos) done[r] = true;
                else output[r].Add(best);
                if (output[r].Count >= maxLength[r]) done[r] = true;
            }
        }
        return [.. output.Select(o => o.ToArray())];
    }

    /// <summary>
    /// Beam search of width <paramref name="beam"/>: <paramref name="decoder"/> must hold sentences · beam rows, sentence
    /// s in rows s·beam … s·beam + beam − 1 (all alike at the start). At each step every live hypothesis is extended by
    /// every token; of a sentence's beam · V candidates the best 2 · beam by log-probability are taken in order, those
    /// ending in eos (or reaching the length limit) join the finished list, the others fill the beam. A sentence is done
    /// when no live hypothesis can still beat its best finished one: log-probabilities only fall as a hypothesis grows,
    /// so a live log-probability divided by the largest penalty it could reach bounds every score it can still get.
    /// </summary>
    /// <returns>Per sentence, the finished hypotheses, best score first.</returns>
    public static Hypothesis[][] Beam(IStepDecoder decoder, int sentences, int beam, int bos, int eos, int[] maxLength, double alpha)
    {
        if (beam < 1) throw new ArgumentException($"beam search needs a beam of at least 1, got {beam}");
        int v = decoder.Vocab, rows = sentences * beam;
        var prefixes = new List<int>[rows];
        var scores = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            prefixes[r] = [];
            // Only the first copy of each sentence is live at the start, so the beam does not fill with one hypothesis.
            scores[r] = r % beam == 0 ? 0 : double.NegativeInfinity;
        }
        var finished = Enumerable.Range(0, sentences).Select(_ => new List<Hypothesis>()).ToArray();
        var done = new bool[sentences];
        var tokens = Enumerable.Repeat(bos, rows).ToArray();
        int[]? parents = null;
        var candidates = new List<(double Score, int Row, int Token)>(2 * beam);
        var best = new PriorityQueue<(double Score, int Row, int Token), (double Score, int Row, int Token)>(2 * beam + 1, Order);
        while (!done.All(d => d))
        {
            var logProbs = decoder.Step(tokens, parents);
            var nextParents = new int[rows];
            var nextTokens = new int[rows];
            var nextPrefixes = new List<int>[rows];
            var nextScores = new double[rows];
            for (int s = 0; s < sentences; s++)
            {
                int first = s * beam;
                if (done[s])
                {
                    // Finished sentences keep their rows busy with something harmless until the whole batch is done.
                    for (int k = 0; k < beam; k++) (nextParents[first + k], nextTokens[first + k], nextPrefixes[first + k], nextScores[first + k]) = (first + k, eos, prefixes[first + k], double.NegativeInfinity);
                    continue;
                }
                // The best 2·beam of beam·V candidates through a heap of the worst kept: sorting all of them every step
                // cost more than the model's step once V reached thousands.
                best.Clear();
                for (int k = 0; k < beam; k++)
                {
                    int r = first + k;
                    if (double.IsNegativeInfinity(scores[r])) continue;
                    var row = logProbs.AsSpan(r * v, v);
                    for (int t = 0; t < v; t++)
                    {
                        if (float.IsNegativeInfinity(row[t])) continue;
                        var candidate = (scores[r] + row[t], r, t);
                        if (best.Count < 2 * beam) best.Enqueue(candidate, candidate);
                        else if (Order.Compare(candidate, best.Peek()) > 0) best.DequeueEnqueue(candidate, candidate);
                    }
                }
                candidates.Clear();
                while (best.Count > 0) candidates.Add(best.Dequeue());
                candidates.Reverse();
                int filled = 0;
                foreach (var (score, row, token) in candidates)
                {
                    if (filled == beam) break;
                    int length = prefixes[row].Count + 1;
                    if (token == eos || length >= maxLength[s])
                    {
                        var kept = token == eos ? prefixes[row].ToArray() : [.. prefixes[row], token];
                        finished[s].Add(new Hypothesis(kept, score, score / LengthPenalty(length, alpha)));
                        continue;
                    }
                    int slot = first + filled++;
                    (nextParents[slot], nextTokens[slot], nextPrefixes[slot], nextScores[slot]) = (row, token, [.. prefixes[row], token], score);
                }
                for (int k = filled; k < beam; k++)
                    (nextParents[first + k], nextTokens[first + k], nextPrefixes[first + k], nextScores[first + k]) = (first, eos, [], double.NegativeInfinity);
                done[s] = filled == 0 || (finished[s].Count > 0 && CannotImprove(finished[s], nextScores.AsSpan(first, beam), maxLength[s], alpha));
            }
            (parents, tokens, prefixes, scores) = (nextParents, nextTokens, nextPrefixes, nextScores);
        }
        return [.. finished.Select(f => f.OrderByDescending(h => h.Score).ToArray())];
    }

    // Candidates from worse to better: lower score, then (ties) the later row and token, so the search is deterministic.
    private static readonly Comparer<(double Score, int Row, int Token)> Order = Comparer<(double Score, int Row, int Token)>.Create((a, b) =>
        a.Score != b.Score ? a.Score.CompareTo(b.Score) : (b.Row, b.Token).CompareTo((a.Row, a.Token)));

    // Every live log-probability is ≤ 0 and can only fall, so its best possible score is itself divided by the largest
    // penalty any continuation could have (the one at the length limit).
    private static bool CannotImprove(List<Hypothesis> finished, ReadOnlySpan<double> live, int maxLength, double alpha)
    {
        double best = finished.Max(h => h.Score), bound = double.NegativeInfinity;
        foreach (double score in live)
            if (!double.IsNegativeInfinity(score)) bound = Math.Max(bound, score / LengthPenalty(maxLength, alpha));
        return bound <= best;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
