namespace Loom.Train;

/// <summary>
/// Mean negative log-likelihood of the true class. Predictions are logits (log-softmax is applied) unless
/// <c>probabilities</c> is set, in which case they are clipped to [1e-15, 1] as scikit-learn does.
/// </summary>
public sealed class LogLoss(bool probabilities = false) : IReducibleMetric
{
    private double _sum;
    private long _count;

    public string Name => "log_loss";

    public bool HigherIsBetter => false;

    public void Update(Tensor predictions, Tensor targets)
    {
        var (scores, c, labels) = ClassificationBatch.Read(predictions, targets, Name);
        for (int i = 0; i < labels.Length; i++)
        {
            var row = scores.AsSpan(i * c, c);
            if (probabilities)
            {
                _sum -= Math.Log(Math.Clamp(row[(int)labels[i]], 1e-15, 1));
            }
            else
            {
                double max = double.NegativeInfinity;
                foreach (var v in row) max = Math.Max(max, v);
                double sum = 0;
                foreach (var v in row) sum += Math.Exp(v - max);
                _sum -= row[(int)labels[i]] - max - Math.Log(sum);
            }
        }
        _count += labels.Length;
    }

    public double Compute() => _count == 0 ? double.NaN : _sum / _count;

    public void Reset() => (_sum, _count) = (0, 0);

    public void Reduce(SumAcrossRanks sumAcrossRanks)
    {
        Span<double> totals = [_sum, _count];
        sumAcrossRanks(totals);
        (_sum, _count) = (totals[0], (long)totals[1]);
    }
}
