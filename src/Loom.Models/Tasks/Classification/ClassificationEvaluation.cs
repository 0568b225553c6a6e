using Loom.Data;
using Loom.Train;

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
