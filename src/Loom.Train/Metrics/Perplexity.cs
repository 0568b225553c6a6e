using Loom.Autograd;

namespace Loom.Train;

/// <summary>
/// exp(mean negative log-likelihood per token) of a language model. Predictions are logits [N, V] (or [B, T, V],
/// flattened) and targets token ids; tokens equal to <c>ignoreIndex</c> are left out.
/// </summary>
public sealed class Perplexity(int ignoreIndex = -100) : IReducibleMetric
{
    private double _nll;
    private long _tokens;

    public string Name => "perplexity";

    public bool HigherIsBetter => false;

    public void Update(Tensor predictions, Tensor targets)
    {
        if (predictions.Rank < 2) throw new ArgumentException($"{Name}: logits must be [N, V] or [B, T, V], got {predictions.Shape}");
        int v = predictions.Shape[^1];
        if (targets.Numel * v != predictions.Numel)
            throw new ArgumentException($"{Name}: targets {targets.Shape} do not match logits {predictions.Shape}");
        var ids = targets.To(DType.Int64).Reshape(-1);
        foreach (long id in ids.AsReadOnlySpan<long>())
            if (id != ignoreIndex && (id < 0 || id >= v)) throw new ArgumentException($"{Name}: token id {id} is outside the vocabulary [0, {v})");
        // The fused cross-entropy kernel in the logits' precision: a language model's [B·T, V] logits are far too many
        // for a scalar loop in double, and this runs on every training batch.
        using var noGrad = new NoGrad();
        var nll = Functional.CrossEntropy(predictions.Reshape(-1, v), ids, ignoreIndex: ignoreIndex, reduction: Reduction.None);
        foreach (double x in nll.To(DType.Float64).AsReadOnlySpan<double>()) _nll += x;
        foreach (long id in ids.AsReadOnlySpan<long>()) if (id != ignoreIndex) _tokens++;
    }

    /// <summary>Adds an already-computed mean loss over <paramref name="tokens"/> tokens (e.g. the training loss).</summary>
    public void UpdateFromLoss(double meanNll, long tokens)
    {
        _nll += meanNll * tokens;
        _tokens += tokens;
    }

    public double Compute() => _tokens == 0 ? double.NaN : Math.Exp(_nll / _tokens);

    public void Reset() => (_nll, _tokens) = (0, 0);

    public void Reduce(SumAcrossRanks sumAcrossRanks)
    {
        Span<double> sums = [_nll, _tokens];
        sumAcrossRanks(sums);
        (_nll, _tokens) = (sums[0], (long)sums[1]);
    }
}
