namespace Loom.Models;

/// <summary>
/// A trained model's loss and metrics on test data, plus what its task reports beyond them: tables (report.md and
/// `loom eval`) and figures (the run folder). A task subclasses it to add its own, as classification adds the
/// per-class table and the confusion matrix.
/// </summary>
public class TaskEvaluation(EvaluationResult result)
{
    public EvaluationResult Result { get; } = result;

    public double Loss => Result.Loss;

    public IReadOnlyDictionary<string, double> Metrics => Result.Metrics;

    public long Samples => Result.Samples;

    /// <summary>Sections after the test metrics, in report.md and under `loom eval`'s metrics table.</summary>
    public virtual IReadOnlyList<ResultTable> Tables => [];

    /// <summary>Writes the task's figures (beyond the training curves) into <paramref name="folder"/>; returns their file names, in report order.</summary>
    public virtual IReadOnlyList<string> WritePlots(RunFolder folder) => [];
}
