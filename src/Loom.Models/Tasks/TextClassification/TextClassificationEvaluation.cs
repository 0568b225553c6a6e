namespace Loom.Models;

/// <summary>
/// A text classifier's test evaluation: loss and metrics (with the lexicon baseline's accuracy and F1 among them, as
/// lexicon_accuracy and lexicon_f1_macro, so that cross-validation reports both as mean ± std), the per-class table,
/// the model against the baseline, a few test texts with their predictions, and the confusion matrices.
/// </summary>
public sealed class TextClassificationEvaluation(EvaluationResult result, ConfusionMatrix confusion, IReadOnlyList<string> classNames,
    ResultTable? baseline, ResultTable examples) : TaskEvaluation(result)
{
    public ConfusionMatrix Confusion { get; } = confusion;

    public IReadOnlyList<string> ClassNames { get; } = classNames;

    public override IReadOnlyList<ResultTable> Tables
    {
        get
        {
            var per = PrecisionRecallF1.PerClass(Confusion);
            var rows = per.Select((p, i) => (IReadOnlyList<Cell>)[ClassNames[i], p.Precision, p.Recall, p.F1, p.Support]).ToList();
            var tables = new List<ResultTable> { new("Per class", ["class", "precision", "recall", "F1", "support"], rows) };
            if (baseline is not null) tables.Add(baseline);
            tables.Add(examples);
            return tables;
        }
    }

    public override IReadOnlyList<string> WritePlots(RunFolder folder)
    {
        var names = ClassNames.Count <= 20 ? ClassNames : null;
        Plots.Confusion(Confusion.Counts, folder.ConfusionPath, names);
        Plots.Confusion(Confusion.Counts, folder.NormalizedConfusionPath, names, normalize: true);
        return [Path.GetFileName(folder.ConfusionPath), Path.GetFileName(folder.NormalizedConfusionPath)];
    }
}
