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
    /// For data without its own <see cref="Validation"/> split: the training split cut into what the trainer trains on
    /// and the validation part it holds out
    /// (<paramref name="fraction"/> of it, chosen by <paramref name="seed"/>): by default a random split, stratified by
    /// <see cref="Strata"/> when the task has classes. A task whose samples overlap (windows of one text) splits by
    /// position instead, so that no validation text is seen in training.
    /// </summary>
    public virtual (IDataset<Sample> Train, IDataset<Sample> Validation) HoldOut(double fraction, ulong seed)
    {
        var (train, validation) = HoldOutRows(fraction, seed);
        return (Pipeline.Rows(Train, train), Pipeline.Rows(Train, validation));
    }

    /// <summary>
    /// The default <see cref="HoldOut"/> as row indices into <see cref="Train"/> (ascending): what cross-fitting
    /// (<see cref="TrainingConfig.Fold"/>) and an out-of-fold ensemble reproduce a run's training rows from.
    /// </summary>
    public (int[] Train, int[] Validation) HoldOutRows(double fraction, ulong seed)
    {
        var split = Strata is { } strata
            ? Split.Stratified(strata, fraction, seed: seed)
            : Split.Random(Train.Count, fraction, seed: seed);
        // Checked before anything trains: an empty split would only show after training, as a NaN metric.
        if (split.Validation.Length == 0)
            throw new InvalidDataException($"--val-fraction {fraction} of {Train.Count} training samples holds out none for validation; give more data, a larger fraction, or --val-fraction 0");
        if (split.Train.Length == 0)
            throw new InvalidDataException($"--val-fraction {fraction} of {Train.Count} training samples leaves none to train on; give more data or a smaller fraction");
        return (split.Train, split.Validation);
    }

    /// <summary>
    /// What the trainer trains on: <paramref name="train"/> (the training split less any validation hold-out) as it is,
    /// or with random augmentations drawn as samples are loaded (classification's `--augment`). Validation and test
    /// data are never passed through this.
    /// </summary>
    public virtual IDataset<Sample> ForTraining(IDataset<Sample> train) => train;

    /// <summary>
    /// Samples per batch when evaluating and predicting without gradients: large, since nothing is kept for backward,
    /// but a language model's windows hold context² attention scores per head and layer, so it takes fewer.
    /// </summary>
    public virtual int EvaluationBatchSize => 256;

    /// <summary>
    /// What the progress line counts per second ("samples"; "tokens" for a language model) and how many of them one
    /// sample holds.
    /// </summary>
    public virtual (string Name, int PerSample) Throughput => ("samples", 1);

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
