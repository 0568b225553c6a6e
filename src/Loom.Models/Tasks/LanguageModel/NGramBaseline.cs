namespace Loom.Models;

/// <summary>
/// The unigram and bigram models a language model must beat, fitted on the training tokens and scored on the same
/// windows as the model (each target given the input token before it), so their perplexities compare directly.
/// Unigram: add-one smoothing, p(w) = (c(w) + 1) / (N + V). Bigram: interpolated absolute discounting (d = 0.75),
/// p(w | v) = max(c(v, w) − d, 0) / c(v) + d · n(v) / c(v) · p(w), with n(v) the number of distinct successors of v
/// and p(w) the unigram; an unseen v falls back to the unigram. Both give every token a positive probability.
/// </summary>
public sealed class NGramBaseline
{
    private const double Discount = 0.75;
    private readonly int _vocab;
    private readonly double[] _unigram;
    private readonly long[] _contextCount;
    private readonly int[] _successors;
    private readonly Dictionary<long, int> _bigram = [];

    public NGramBaseline(ReadOnlySpan<int> tokens, int vocab)
    {
        _vocab = vocab;
        var counts = new long[vocab];
        foreach (int t in tokens) counts[t]++;
        _unigram = new double[vocab];
        for (int w = 0; w < vocab; w++) _unigram[w] = (counts[w] + 1.0) / (tokens.Length + vocab);
        _contextCount = new long[vocab];
        _successors = new int[vocab];
        for (int i = 0; i + 1 < tokens.Length; i++)
        {
            long key = (long)tokens[i] * vocab + tokens[i + 1];
            int c = _bigram.GetValueOrDefault(key);
            if (c == 0) _successors[tokens[i]]++;
            _bigram[key] = c + 1;
            _contextCount[tokens[i]]++;
        }
    }

    public double UnigramProbability(int token) => _unigram[token];

    public double BigramProbability(int previous, int token)
    {
        long context = _contextCount[previous];
        if (context == 0) return _unigram[token];
        int pair = _bigram.GetValueOrDefault((long)previous * _vocab + token);
        return (Math.Max(pair - Discount, 0) + Discount * _successors[previous] * _unigram[token]) / context;
    }

    /// <summary>(unigram, bigram) perplexity over every target of <paramref name="windows"/> (inputs and targets [N, T]).</summary>
    public (double Unigram, double Bigram) Perplexities(TensorDataset windows)
    {
        var inputs = windows.Inputs.AsReadOnlySpan<long>();
        var targets = windows.Targets.AsReadOnlySpan<long>();
        double uni = 0, bi = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            uni -= Math.Log(UnigramProbability((int)targets[i]));
            bi -= Math.Log(BigramProbability((int)inputs[i], (int)targets[i]));
        }
        return targets.Length == 0 ? (double.NaN, double.NaN) : (Math.Exp(uni / targets.Length), Math.Exp(bi / targets.Length));
    }
}
