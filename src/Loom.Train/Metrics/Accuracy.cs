namespace Loom.Train;

/// <summary>Fraction of samples whose true class is among the top <c>k</c> scores (k = 1: plain accuracy).</summary>
public sealed class Accuracy(int topK = 1) : IReducibleMetric
{
    private long _correct, _total;

    public string Name => topK == 1 ? "accuracy" : $"top{topK}_accuracy";

    public bool HigherIsBetter => true;

    public void Update(Tensor predictions, Tensor targets)
    {
        var (scores, c, labels) = ClassificationBatch.Read(predictions, targets, Name);
        if (topK < 1 || topK > c) throw new ArgumentException($"{Name}: k = {topK} must be in [1, {c}]");
        for (int i = 0; i < labels.Length; i++)
        {
            double truth = scores[i * c + labels[i]];
            int higher = 0;
            for (int j = 0; j < c; j++)
            {
                double s = scores[i * c + j];
                // Ties rank before the true class when their index is lower, as a stable top-k would.
                if (s > truth || (s == truth && j < labels[i])) higher++;
            }
            if (higher < topK) _correct++;
        }
        _total += labels.Length;
    }

    public double Compute() => _total == 0 ? double.NaN : (double)_correct / _total;

    public void Reset() => (_correct, _total) = (0, 0);

    public void Reduce(SumAcrossRanks sumAcrossRanks)
    {
        Span<double> counts = [_correct, _total];
        sumAcrossRanks(counts);
        (_correct, _total) = ((long)counts[0], (long)counts[1]);
    }
}
