using Loom.Data;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// A task's data, loaded and ready for the model: the training and test splits (the trainer holds its validation part
/// out of <see cref="Train"/>), plus whatever the task needs to read more data the same way later.
/// </summary>
public abstract class TaskData
{
    /// <summary>The training split, as the model takes it.</summary>
    public abstract IDataset<Sample> Train { get; }

    /// <summary>The test split, as the model takes it.</summary>
    public abstract IDataset<Sample> Test { get; }

    /// <summary>
    /// The data's own validation split (an image folder's <c>val/</c>), which the trainer validates on instead of
    /// holding out `--val-fraction` of <see cref="Train"/>; null for data that has none.
    /// </summary>
    public virtual IDataset<Sample>? Validation => null;

    /// <summary>
    /// Null when the test samples have targets. Otherwise why not ("new.csv has no column 'label'"): new data given to
    /// `loom predict` may come without labels, and its <see cref="Test"/> targets are then placeholders that
    /// `loom eval` refuses to score.
    /// </summary>
    public virtual string? Unlabelled => null;

    /// <summary>What the user should know about how the data was read for a trained model (columns matched by name, columns left unused), one line each.</summary>
    public virtual IReadOnlyList<string> Notes => [];

    /// <summary>One line for the console and report.md: where the data came from and its size.</summary>
    public abstract string Description { get; }

    /// <summary>A class label per training sample [N], to stratify the validation hold-out and cv folds by; null for plain random splits.</summary>
    public virtual Tensor? Strata => null;

    /// <summary>
    /// Writes into a run folder what eval and predict need to read new data the same way (a standardisation, a
    /// vocabulary); <see cref="ITask.Load"/> reads it back from the trained run.
    /// </summary>
    public virtual void Save(RunFolder folder)
    {
    }

    /// <summary>
    /// The data of one cross-validation fold: the training rows at <paramref name="train"/> as the training split and
    /// those at <paramref name="validation"/> as the test split, with anything fitted on data (a standardisation)
    /// refitted on the fold's training rows alone, so nothing of the held-out rows leaks into training.
    /// </summary>
    public abstract TaskData Fold(int[] train, int[] validation);
}
