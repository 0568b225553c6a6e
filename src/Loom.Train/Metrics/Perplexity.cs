namespace Loom.Train;

/// <summary>
/// exp(mean negative log-likelihood per token) of a language model. Predictions are logits [N, V] (or [B, T, V],
/// flattened) and targets token ids; tokens equal to <c>ignoreIndex</c> are left out.
/// </summary>
public sealed class Perplexity(int ignoreIndex = -100) : IMetric
{
    private double _nll;
    private long _tokens;

    public string Name => "perplexity";

    public bool HigherIsBetter => false;

    public void Update(Tensor predictions, Tensor targets)
    {
        if (predictions.Rank < 2) throw new ArgumentException($"{Name}: logits must be [N, V] or [B, T, V], got {predictions.Shape}");
        int v = predictions.Shape[^1];
        var logits = predictions.ToArray<double>();
        var ids = targets.ToArray<long>();
        if (ids.Length * v != logits.Length)
            throw new ArgumentException($"{Name}: targets {targets.Shape} do not match logits {predictions.Shape}");
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] == ignoreIndex) continue;
            if (ids[i] < 0 || ids[i] >= v) throw new ArgumentException($"{Name}: token id {ids[i]} is outside the vocabulary [0, {v})");
            var row = logits.AsSpan(i * v, v);
            double max = double.NegativeInfinity;
            foreach (var x in row) max = Math.Max(max, x);
            double sum = 0;
            foreach (var x in row) sum += Math.Exp(x - max);
            _nll -= row[(int)ids[i]] - max - Math.Log(sum);
            _tokens++;
        }
    }

    /// <summary>Adds an already-computed mean loss over <paramref name="tokens"/> tokens (e.g. the training loss).</summary>
    public void UpdateFromLoss(double meanNll, long tokens)
    {
        _nll += meanNll * tokens;
        _tokens += tokens;
    }

    public double Compute() => _tokens == 0 ? double.NaN : Math.Exp(_nll / _tokens);

    public void Reset() => (_nll, _tokens) = (0, 0);
}
