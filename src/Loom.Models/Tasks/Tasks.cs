namespace Loom.Models;

/// <summary>A config whose task and model are decided: the task, the kind of data it saw, and the config recording both.</summary>
public sealed record ResolvedConfig(ITask Task, DataKind Kind, TrainingConfig Config);

/// <summary>
/// The tasks Loom knows, and the one rule that picks a task and model for a run: `--task` if given, else the first
/// task that recognises `--data`; `--model` if given (checked against the models that fit the data), else the task's
/// default for that kind of data.
/// </summary>
public static class Tasks
{
    /// <summary>
    /// Every task, in the order they are asked to recognise data: a task whose data is a special case of another's (a
    /// CSV with a text column is a text CSV, not a table; a folder of class folders of .wav clips is audio, not images)
    /// must come before it.
    /// </summary>
    public static IReadOnlyList<ITask> All { get; } = [new DetectionTask(), new FaceVerificationTask(), new KeywordSpottingTask(), new TranslationTask(), new SummarizationTask(), new LanguageModelTask(), new TextClassificationTask(), new ClassificationTask()];

    /// <summary>The task named <paramref name="name"/>.</summary>
    public static ITask Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"--task must be one of {string.Join(", ", All.Select(t => t.Name))}; got '{name}'");

    /// <summary>
    /// Checks the shared options, decides the task and model (see <see cref="Tasks"/>), and normalises the task's
    /// options. Resolving a resolved config changes nothing, so a run's config.json resolves to itself.
    /// </summary>
    public static ResolvedConfig Resolve(TrainingConfig config)
    {
        config.Validate();
        ITask task;
        DataKind kind;
        if (config.Task is { } name)
        {
            task = Get(name);
            kind = task.RecognizeWhenAsked(config.Data) ?? throw Unrecognised(config.Data, $"--task {task.Name} does not take --data {config.Data}; it takes {task.AcceptedData}");
        }
        else
        {
            var match = All.Select(t => (Task: t, Kind: t.Recognize(config.Data))).FirstOrDefault(p => p.Kind is not null);
            if (match.Kind is null)
                throw Unrecognised(config.Data, $"--data {config.Data}: unsupported file type; give {string.Join("; or ", All.Select(t => t.AcceptedData))}");
            (task, kind) = (match.Task, match.Kind);
        }
        var models = task.Models(kind);
        string model = config.Model ?? models[0];
        if (!ModelZoo.Models.ContainsKey(model))
            throw new ArgumentException($"--model must be one of {string.Join(", ", ModelZoo.Models.Keys)}; got '{model}'");
        if (!models.Contains(model))
            throw new ArgumentException($"--model {model} does not fit {kind.Description} ({config.Data}); {task.Name} of {kind.Description} uses {Either(models)}");
        var resolved = task.NormalizeOptions(config with { Task = task.Name, Model = model }).WithDefaults(task.TrainingDefaults);
        resolved.Validate();
        return new ResolvedConfig(task, kind, resolved);
    }

    private static string Either(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];

    // Data no task recognises is either missing (the likelier mistake: a typo) or of a type the task cannot read.
    private static Exception Unrecognised(string data, string message) =>
        File.Exists(data) || Directory.Exists(data)
            ? new ArgumentException(message)
            : new FileNotFoundException($"--data {data}: no such built-in dataset, file or folder (built-in: {string.Join(", ", BuiltinDatasets.Names)})", data);
}
