namespace Loom.Models;

/// <summary>A classifier's test evaluation: loss and metrics, the confusion matrix, and from it the per-class table and figure.</summary>
public sealed class ClassificationEvaluation(EvaluationResult result, ConfusionMatrix confusion, IReadOnlyList<string> classNames) : TaskEvaluation(result)
{
    public ConfusionMatrix Confusion { get; } = confusion;

    /// <summary>The metrics every one-class-per-sample task reports: accuracy and macro F1 over <paramref name="classes"/>.</summary>
    public static IReadOnlyList<Func<IMetric>> ClassMetrics(int classes) =>
        [() => new Accuracy(), () => new PrecisionRecallF1(classes, ClassificationScore.F1, Averaging.Macro)];

    /// <summary>Evaluates <paramref name="test"/> with a confusion matrix over <paramref name="classNames"/> counted alongside.</summary>
    public static ClassificationEvaluation Of(Evaluator evaluator, IEnumerable<Batch> test, IReadOnlyList<string> classNames)
    {
        var confusion = new ConfusionMatrix(classNames.Count);
        return new ClassificationEvaluation(evaluator.Evaluate(test, confusion), confusion, classNames);
    }

    /// <summary>
    /// The predictions table of a one-class-per-sample task, one row per sample: the sample's own columns
    /// (<paramref name="keyColumns"/>, e.g. its row, file or text), its true class when <paramref name="target"/> is
    /// given, the predicted class and its probability, and every class's probability (p_NAME).
    /// </summary>
    public static ResultTable Predictions(Tensor logits, IReadOnlyList<string> classNames, string[] keyColumns,
        Func<int, IEnumerable<Cell>> keys, Func<int, int>? target)
    {
        var probabilities = logits.Softmax(-1);
        int n = probabilities.Shape[0], c = probabilities.Shape[1];
        var p = probabilities.ToArray<double>();
        var rows = new List<IReadOnlyList<Cell>>(n);
        for (int i = 0; i < n; i++)
        {
            var row = p.AsSpan(i * c, c);
            int best = 0;
            for (int j = 1; j < c; j++) if (row[j] > row[best]) best = j;
            var cells = new List<Cell>(keyColumns.Length + 3 + c);
            cells.AddRange(keys(i));
            if (target is not null) cells.Add(classNames[target(i)]);
            cells.Add(classNames[best]);
            // Six significant digits: plenty for a probability, and a readable file.
            cells.Add(Probability(row[best]));
            foreach (var v in row) cells.Add(Probability(v));
            rows.Add(cells);
        }
        string[] columns = [.. keyColumns, .. target is null ? Array.Empty<string>() : ["target"], "predicted", "probability", .. classNames.Select(k => "p_" + k)];
        return new ResultTable("Predictions", columns, rows);
    }

    /// <summary>
    /// The true class of each sample of <paramref name="test"/> (class indices as targets), or null when
    /// <paramref name="data"/> is unlabelled and those targets are placeholders: the <c>target</c> argument of
    /// <see cref="Predictions"/>.
    /// </summary>
    internal static Func<int, int>? TestClasses(TaskData data, TensorDataset test)
    {
        if (data.Unlabelled is not null) return null;
        var targets = test.Targets.ToArray<long>();
        return i => (int)targets[i];
    }

    private static Cell Probability(double p) => p.ToString("G6", CultureInfo.InvariantCulture);

    public IReadOnlyList<string> ClassNames { get; } = classNames;

    public override IReadOnlyList<ResultTable> Tables
    {
        get
        {
            var per = PrecisionRecallF1.PerClass(Confusion);
            var rows = per.Select((p, i) => (IReadOnlyList<Cell>)[ClassNames[i], p.Precision, p.Recall, p.F1, p.Support]).ToList();
            return [new ResultTable("Per class", ["class", "precision", "recall", "F1", "support"], rows)];
        }
    }

    public override IReadOnlyList<string> WritePlots(RunFolder folder)
    {
        // Beyond about 20 classes the tick labels overlap; indices stay readable.
        var names = ClassNames.Count <= 20 ? ClassNames : null;
        Plots.Confusion(Confusion.Counts, folder.ConfusionPath, names);
        Plots.Confusion(Confusion.Counts, folder.NormalizedConfusionPath, names, normalize: true);
        return [Path.GetFileName(folder.ConfusionPath), Path.GetFileName(folder.NormalizedConfusionPath)];
    }
}
