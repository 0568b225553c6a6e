namespace Loom.Train;

/// <summary>Which score <see cref="PrecisionRecallF1"/> reports.</summary>
public enum ClassificationScore
{
    Precision,
    Recall,
    F1,
}

/// <summary>
/// Precision, recall or F1 with macro, micro or weighted averaging, from a confusion matrix. A class never predicted
/// has precision 0 (and a class never present recall 0), as scikit-learn's <c>zero_division=0</c>; macro averages
/// over the classes that occur in targets or predictions, as scikit-learn does. In data-parallel training the confusion
/// counts are summed over ranks before the score is computed (a macro F1 is not the mean of the ranks' F1s).
/// </summary>
public sealed class PrecisionRecallF1(int classes, ClassificationScore score = ClassificationScore.F1, Averaging averaging = Averaging.Macro) : IReducibleMetric
{
    private readonly ConfusionMatrix _matrix = new(classes);

    public string Name => $"{score.ToString().ToLowerInvariant()}_{averaging.ToString().ToLowerInvariant()}";

    public bool HigherIsBetter => true;

    public void Update(Tensor predictions, Tensor targets) => _matrix.Update(predictions, targets);

    public void Reset() => _matrix.Reset();

    public double Compute() => Compute(_matrix, score, averaging);

    public void Reduce(SumAcrossRanks sumAcrossRanks) => _matrix.Reduce(sumAcrossRanks);

    /// <summary>Per-class precision, recall, F1 and support.</summary>
    public static (double Precision, double Recall, double F1, long Support)[] PerClass(ConfusionMatrix m)
    {
        var result = new (double, double, double, long)[m.Classes];
        for (int c = 0; c < m.Classes; c++)
        {
            var (tp, fp, fn) = m.Outcomes(c);
            double p = Ratio(tp, tp + fp), r = Ratio(tp, tp + fn);
            result[c] = (p, r, p + r == 0 ? 0 : 2 * p * r / (p + r), m.Support(c));
        }
        return result;
    }

    public static double Compute(ConfusionMatrix m, ClassificationScore score, Averaging averaging)
    {
        if (m.Total == 0) return double.NaN;
        if (averaging == Averaging.Micro)
        {
            long tp = 0, fp = 0, fn = 0;
            for (int c = 0; c < m.Classes; c++)
            {
                var o = m.Outcomes(c);
                (tp, fp, fn) = (tp + o.Tp, fp + o.Fp, fn + o.Fn);
            }
            double p = Ratio(tp, tp + fp), r = Ratio(tp, tp + fn);
            return score switch
            {
                ClassificationScore.Precision => p,
                ClassificationScore.Recall => r,
                _ => p + r == 0 ? 0 : 2 * p * r / (p + r),
            };
        }
        var per = PerClass(m);
        double Pick((double P, double R, double F, long S) x) => score switch
        {
            ClassificationScore.Precision => x.P,
            ClassificationScore.Recall => x.R,
            _ => x.F,
        };
        if (averaging == Averaging.Macro)
        {
            // Like scikit-learn, average over the classes that occur in the targets or the predictions: a class the
            // data never mentions has no defined score and must not drag the mean to zero.
            var present = Enumerable.Range(0, m.Classes).Where(c => m.Outcomes(c) is var o && o.Tp + o.Fp + o.Fn > 0).ToList();
            return present.Count == 0 ? double.NaN : present.Average(c => Pick(per[c]));
        }
        long total = per.Sum(x => x.Support);
        return per.Sum(x => Pick(x) * x.Support) / total;
    }

    private static double Ratio(long a, long b) => b == 0 ? 0 : (double)a / b;
}
