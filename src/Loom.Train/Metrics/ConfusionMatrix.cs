namespace Loom.Train;

/// <summary>
/// Counts of (true class, predicted class) pairs; the source of precision, recall and F1. <see cref="Compute"/>
/// returns accuracy; read <see cref="Counts"/> for the matrix itself. Reducible: the counts add up over ranks.
/// </summary>
public sealed class ConfusionMatrix(int classes) : IReducibleMetric
{
    private long[,] _counts = new long[classes, classes];

    public int Classes => classes;

    public string Name => "confusion_matrix";

    public bool HigherIsBetter => true;

    /// <summary>Counts[true, predicted].</summary>
    public long[,] Counts => (long[,])_counts.Clone();

    public void Update(Tensor predictions, Tensor targets)
    {
        var (scores, c, labels) = ClassificationBatch.Read(predictions, targets, Name);
        if (c != classes) throw new ArgumentException($"{Name}: predictions have {c} classes, the matrix {classes}");
        var predicted = ClassificationBatch.ArgMax(scores, c);
        for (int i = 0; i < labels.Length; i++) _counts[labels[i], predicted[i]]++;
    }

    /// <summary>Adds already-decided predictions (class indices).</summary>
    public void Update(ReadOnlySpan<int> predicted, ReadOnlySpan<long> labels)
    {
        for (int i = 0; i < labels.Length; i++) _counts[labels[i], predicted[i]]++;
    }

    public long Total
    {
        get
        {
            long t = 0;
            foreach (var v in _counts) t += v;
            return t;
        }
    }

    public double Compute()
    {
        long correct = 0;
        for (int i = 0; i < classes; i++) correct += _counts[i, i];
        return Total == 0 ? double.NaN : (double)correct / Total;
    }

    public void Reset() => _counts = new long[classes, classes];

    public void Reduce(SumAcrossRanks sumAcrossRanks)
    {
        // Counts travel as doubles, exact up to 2^53 samples.
        var flat = new double[classes * classes];
        int k = 0;
        foreach (var v in _counts) flat[k++] = v;
        sumAcrossRanks(flat);
        for (int i = 0; i < classes; i++)
            for (int j = 0; j < classes; j++) _counts[i, j] = (long)flat[i * classes + j];
    }

    /// <summary>True positives, false positives and false negatives of one class.</summary>
    public (long Tp, long Fp, long Fn) Outcomes(int cls)
    {
        long tp = _counts[cls, cls], fp = 0, fn = 0;
        for (int j = 0; j < classes; j++)
        {
            if (j == cls) continue;
            fp += _counts[j, cls];
            fn += _counts[cls, j];
        }
        return (tp, fp, fn);
    }

    /// <summary>Number of samples whose true class is <paramref name="cls"/>.</summary>
    public long Support(int cls)
    {
        long s = 0;
        for (int j = 0; j < classes; j++) s += _counts[cls, j];
        return s;
    }
}
