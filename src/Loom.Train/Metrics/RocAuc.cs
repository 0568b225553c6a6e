namespace Loom.Train;

/// <summary>How <see cref="RocAuc"/> extends to more than two classes, as scikit-learn's <c>multi_class</c>.</summary>
public enum RocAucMultiClass
{
    /// <summary>Each class against all others ("ovr"): sensitive to class imbalance through the negatives.</summary>
    OneVsRest,
    /// <summary>Each pair of classes on the samples of those two ("ovo", Hand and Till 2001): insensitive to imbalance.</summary>
    OneVsOne,
}

/// <summary>
/// Area under the ROC curve, as scikit-learn's <c>roc_auc_score</c> of the class probabilities. Binary (C = 2, or one
/// score column): AUC of the positive class, with ties counted half (the Mann–Whitney statistic). Multi-class:
/// one-vs-rest or one-vs-one, averaged over classes (or pairs) by macro or weighted (by support, or by pair prevalence)
/// averaging. Classes absent from the targets have no defined AUC and are left out (scikit-learn refuses such data).
/// </summary>
/// <remarks>
/// Predictions [N, C] are logits unless <c>probabilities</c> is set: each class is ranked by its log-softmax, i.e. by
/// its probability. Ranking by the raw logit would give another (wrong) number, since a class's probability depends on
/// the other logits too. A single score column [N] (a logit or probability of class 1) is used as it is.
/// </remarks>
public sealed class RocAuc : IMetric
{
    private readonly bool _probabilities;
    private readonly RocAucMultiClass _multiClass;
    private readonly Averaging _average;
    private readonly List<double> _scores = [];
    private readonly List<long> _labels = [];
    private int _classes = -1;

    public RocAuc(bool probabilities = false, RocAucMultiClass multiClass = RocAucMultiClass.OneVsRest, Averaging average = Averaging.Macro)
    {
        if (average is not (Averaging.Macro or Averaging.Weighted))
            throw new ArgumentException($"roc_auc: average must be Macro or Weighted for ROC AUC, got {average}");
        _probabilities = probabilities;
        _multiClass = multiClass;
        _average = average;
        // scikit-learn's scorer names; the default keeps the plain one.
        Name = (multiClass, average) switch
        {
            (RocAucMultiClass.OneVsRest, Averaging.Macro) => "roc_auc",
            (RocAucMultiClass.OneVsRest, _) => "roc_auc_ovr_weighted",
            (RocAucMultiClass.OneVsOne, Averaging.Macro) => "roc_auc_ovo",
            _ => "roc_auc_ovo_weighted",
        };
    }

    public string Name { get; }

    public bool HigherIsBetter => true;

    public void Update(Tensor predictions, Tensor targets)
    {
        if (predictions.Rank == 1)
        {
            // A single score per sample: probability or logit of class 1.
            var s = predictions.ToArray<double>();
            var l = targets.ToArray<long>();
            if (l.Length != s.Length) throw new ArgumentException($"{Name}: {s.Length} scores but {l.Length} targets");
            foreach (var v in l) if (v is not (0 or 1)) throw new ArgumentException($"{Name}: binary targets must be 0 or 1, got {v}");
            for (int i = 0; i < s.Length; i++) { _scores.Add(-s[i]); _scores.Add(s[i]); }
            _labels.AddRange(l);
            SetClasses(2);
            return;
        }
        var (scores, c, labels) = ClassificationBatch.Read(predictions, targets, Name);
        SetClasses(c);
        if (!_probabilities)
            for (int i = 0; i < labels.Length; i++) LogSoftmax(scores.AsSpan(i * c, c));
        _scores.AddRange(scores);
        _labels.AddRange(labels);
    }

    private static void LogSoftmax(Span<double> row)
    {
        double max = double.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        double shift = max + Math.Log(sum);
        for (int j = 0; j < row.Length; j++) row[j] -= shift;
    }

    private void SetClasses(int c)
    {
        if (_classes >= 0 && _classes != c) throw new ArgumentException($"{Name}: batches disagree on the number of classes ({_classes} vs {c})");
        _classes = c;
    }

    public double Compute()
    {
        if (_labels.Count == 0) return double.NaN;
        int c = _classes;
        if (c == 2) return Auc(1, 1, 0);
        var present = Enumerable.Range(0, c).Where(k => _labels.Contains(k)).ToArray();
        var (values, weights) = (new List<double>(), new List<double>());
        if (_multiClass == RocAucMultiClass.OneVsRest)
        {
            foreach (int k in present)
            {
                double auc = Auc(k, k, -1);
                if (double.IsNaN(auc)) continue; // every sample is of class k: no negatives
                values.Add(auc);
                weights.Add(_labels.Count(l => l == k));
            }
        }
        else
        {
            for (int i = 0; i < present.Length; i++)
                for (int j = i + 1; j < present.Length; j++)
                {
                    int a = present[i], b = present[j];
                    values.Add((Auc(a, a, b) + Auc(b, b, a)) / 2);
                    weights.Add(_labels.Count(l => l == a || l == b));
                }
        }
        if (values.Count == 0) return double.NaN;
        if (_average == Averaging.Macro) return values.Average();
        return values.Zip(weights, (v, w) => v * w).Sum() / weights.Sum();
    }

    /// <summary>
    /// AUC of score column <paramref name="column"/> for samples of class <paramref name="positive"/> against those of
    /// class <paramref name="negative"/> (all other classes when −1); NaN when either side is empty.
    /// </summary>
    private double Auc(int column, int positive, int negative)
    {
        int c = _classes;
        var pos = new List<double>();
        var neg = new List<double>();
        for (int i = 0; i < _labels.Count; i++)
        {
            long l = _labels[i];
            if (l == positive) pos.Add(_scores[i * c + column]);
            else if (negative < 0 || l == negative) neg.Add(_scores[i * c + column]);
        }
        return pos.Count == 0 || neg.Count == 0 ? double.NaN : MannWhitney(pos, neg);
    }

    // AUC = P(score of a random positive > score of a random negative) + ½ P(tie), via ranks in O(n log n).
    private static double MannWhitney(List<double> pos, List<double> neg)
    {
        var all = pos.Select(s => (s, true)).Concat(neg.Select(s => (s, false))).OrderBy(x => x.s).ToArray();
        double rankSum = 0;
        for (int i = 0; i < all.Length;)
        {
            int j = i;
            while (j < all.Length && all[j].s == all[i].s) j++;
            double avgRank = (i + 1 + j) / 2.0;
            for (int k = i; k < j; k++) if (all[k].Item2) rankSum += avgRank;
            i = j;
        }
        double np = pos.Count, nn = neg.Count;
        return (rankSum - np * (np + 1) / 2) / (np * nn);
    }

    public void Reset()
    {
        _scores.Clear();
        _labels.Clear();
        _classes = -1;
    }
}
