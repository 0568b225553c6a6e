namespace Loom.Train;

/// <summary>
/// Area under the ROC curve. Binary (C = 2, or one score column): AUC of the positive class score, with ties counted
/// half (the Mann–Whitney statistic). Multi-class: one-vs-rest macro average over classes present and absent in the
/// targets (a class with no positives or no negatives is skipped, as it has no defined AUC).
/// </summary>
public sealed class RocAuc : IMetric
{
    private readonly List<double> _scores = [];
    private readonly List<long> _labels = [];
    private int _classes = -1;

    public string Name => "roc_auc";

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
        _scores.AddRange(scores);
        _labels.AddRange(labels);
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
        var aucs = new List<double>();
        for (int cls = c == 2 ? 1 : 0; cls < c; cls++)
        {
            var pos = new List<double>();
            var neg = new List<double>();
            for (int i = 0; i < _labels.Count; i++)
                (_labels[i] == cls ? pos : neg).Add(_scores[i * c + cls]);
            if (pos.Count == 0 || neg.Count == 0) continue;
            aucs.Add(MannWhitney(pos, neg));
        }
        return aucs.Count == 0 ? double.NaN : aucs.Average();
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
