namespace Loom.Train;

/// <summary>The metrics of one fold.</summary>
public sealed record FoldResult(int Fold, int TrainCount, int ValidationCount, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Every fold's metrics and, per metric, the mean and (sample) standard deviation across folds.</summary>
public sealed record CrossValidationResult(IReadOnlyList<FoldResult> Folds, IReadOnlyDictionary<string, (double Mean, double Std)> Summary);

/// <summary>
/// K-fold cross-validation over any dataset and any way of training: for each fold, <c>trainAndEvaluate</c> gets the
/// training and held-out parts (as <see cref="TensorDataset"/>s) and returns metrics computed on the held-out part.
/// Stratified folds keep each class's share within one sample of its proportion.
/// </summary>
public static class CrossValidation
{
    public static CrossValidationResult Run(TensorDataset data, int folds, bool stratified, ulong seed,
        Func<int, TensorDataset, TensorDataset, IReadOnlyDictionary<string, double>> trainAndEvaluate, Action<FoldResult>? onFold = null) =>
        Run(data.Count, stratified ? data.Targets : null, folds, seed,
            fold => trainAndEvaluate(fold.Index, data.Gather(fold.Train), data.Gather(fold.Validation)), onFold);

    /// <summary>
    /// K-fold cross-validation over the indices 0..<paramref name="count"/>−1: <c>trainAndEvaluate</c> gets each fold's
    /// training and held-out indices and builds its own data from them, so preprocessing fitted on data (such as a
    /// standardisation) can be fitted on the fold's training part alone. Folds are stratified by
    /// <paramref name="strata"/> (class labels [count]) when given.
    /// </summary>
    public static CrossValidationResult Run(int count, Tensor? strata, int folds, ulong seed,
        Func<Fold, IReadOnlyDictionary<string, double>> trainAndEvaluate, Action<FoldResult>? onFold = null)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "cross-validation needs at least 2 folds");
        if (folds > count) throw new ArgumentOutOfRangeException(nameof(folds), folds, $"cannot make {folds} folds of {count} samples");
        if (strata is not null && (strata.Rank != 1 || strata.Shape[0] != count))
            throw new ArgumentException($"cross-validation: strata must be one label per sample [{count}], got shape {strata.Shape}");
        var splits = strata is not null
            ? new StratifiedKFold(folds, seed).Split(strata.ToArray<int>())
            : new KFold(folds, shuffle: true, seed).Split(count);
        var results = new List<FoldResult>();
        foreach (var fold in splits)
        {
            var metrics = trainAndEvaluate(fold);
            var result = new FoldResult(fold.Index, fold.Train.Length, fold.Validation.Length, metrics);
            results.Add(result);
            onFold?.Invoke(result);
        }
        return new CrossValidationResult(results, Summarise(results));
    }

    public static IReadOnlyDictionary<string, (double Mean, double Std)> Summarise(IReadOnlyList<FoldResult> folds)
    {
        var summary = new Dictionary<string, (double, double)>();
        foreach (var key in folds.SelectMany(f => f.Metrics.Keys).Distinct())
        {
            var values = folds.Where(f => f.Metrics.ContainsKey(key)).Select(f => f.Metrics[key]).ToArray();
            double mean = values.Average();
            double std = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
            summary[key] = (mean, std);
        }
        return summary;
    }
}
