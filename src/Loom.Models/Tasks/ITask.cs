namespace Loom.Models;

/// <summary>
/// An application Loom trains: classification today; language modelling, translation, detection… to come. A task
/// says which data it takes and how to load it, which models of the zoo fit that data (and which is the default),
/// its loss, metrics, report sections, figures and predictions. Everything else — resolving the task from
/// `--data`, the trainer with its optimiser, schedule and callbacks, the run folder, checkpoints and resume, cross-
/// validation, the CLI verbs — is shared (<see cref="Pipeline"/>, <see cref="Tasks"/>). See docs/notes/tasks.md.
/// </summary>
public interface ITask
{
    /// <summary>The name `--task` takes and config.json records ("classification").</summary>
    string Name { get; }

    /// <summary>What the task does, in one line (for `loom train --help`).</summary>
    string Description { get; }

    /// <summary>The data it takes, for help and errors: "a .csv file (with --target), an image folder…".</summary>
    string AcceptedData { get; }

    /// <summary>The kinds of data <see cref="Recognize"/> can return.</summary>
    IReadOnlyList<DataKind> Kinds { get; }

    /// <summary>The task's own options; the CLI adds them to `loom train` and `loom cv`.</summary>
    IReadOnlyList<TaskOption> Options { get; }

    /// <summary>
    /// The kind of data <paramref name="data"/> (the `--data` argument) names, if this task can train on it, else
    /// null. Decided from the name and a glance at the file or folder, without loading it; the first task in
    /// <see cref="Tasks.All"/> to recognise the data gets it.
    /// </summary>
    DataKind? Recognize(string data);

    /// <summary>
    /// The kind of <paramref name="data"/> when `--task` names this task: it may take data that it would not claim from
    /// other tasks (a language model reads any CSV's text column when asked). By default, <see cref="Recognize"/>.
    /// </summary>
    DataKind? RecognizeWhenAsked(string data) => Recognize(data);

    /// <summary>Batch size, optimiser, learning rate, weight decay, schedule and clipping for options not given.</summary>
    TrainingDefaults TrainingDefaults { get; }

    /// <summary>The zoo models that fit <paramref name="kind"/>, the default first.</summary>
    IReadOnlyList<string> Models(DataKind kind);

    /// <summary>
    /// <paramref name="config"/> with exactly this task's options: checked (an <see cref="ArgumentException"/> names
    /// the option), defaults filled in, other tasks' options dropped.
    /// </summary>
    TrainingConfig NormalizeOptions(TrainingConfig config);

    /// <summary>
    /// Loads the data of a resolved config. <paramref name="trainedRun"/>: the run whose model will see the data
    /// (eval, predict), so the data is read as that run's training data was, with what <see cref="TaskData.Save"/> wrote
    /// (columns and classes matched to the run's by name). <paramref name="newData"/>: with a trained run, the data is not
    /// the run's own but new data to evaluate or predict (`--data`): all of it is the test split (its test part, for
    /// data that comes split), and it may lack targets (<see cref="TaskData.Unlabelled"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">Data the task cannot train on, or that does not match the trained run; one line naming the file.</exception>
    TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false);

    /// <summary>
    /// A new <see cref="TrainingConfig.Model"/> for <paramref name="data"/>; the caller has seeded the default
    /// generator, so initialisation is reproducible.
    /// </summary>
    Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data);

    /// <summary>(outputs, targets) → the batch's mean loss. The config's L1/L2 penalties are added by the pipeline when training.</summary>
    Func<Tensor, Tensor, Tensor> Loss(TaskData data);

    /// <summary>The metrics computed per epoch (training and validation) and on the test data.</summary>
    IReadOnlyList<Func<IMetric>> Metrics(TaskData data);

    /// <summary>Loss, metrics and the task's own report of the model on <paramref name="test"/> (batches of <paramref name="data"/>'s test split).</summary>
    TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test);

    /// <summary>One row per test sample, in order (`loom predict` writes it as CSV); <paramref name="test"/> batches <paramref name="data"/>'s test split.</summary>
    ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test);
}
