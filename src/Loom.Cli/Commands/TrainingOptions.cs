namespace Loom.Cli.Commands;

/// <summary>
/// What `loom train` and `loom cv` share: their options, the mapping onto a <see cref="TrainingConfig"/> (the options
/// every task has, then each task's own, <see cref="ITask.Options"/>, which reach the config as given), and the new
/// run folder under --output.
/// </summary>
internal sealed class TrainingOptions
{
    private static readonly TrainingConfig Defaults = new();

    public Option<string?> Task { get; } = new("--task") { Description = $"task: {string.Join(", ", Tasks.All.Select(t => $"{t.Name} ({t.Description})"))}; by default the one that takes --data" };
    public Option<string> Data { get; } = new("--data") { Description = string.Join("; or ", Tasks.All.Select(t => t.AcceptedData)), DefaultValueFactory = _ => Defaults.Data };
    public Option<string?> Model { get; } = new("--model") { Description = $"model: {string.Join(", ", ModelZoo.Models.Keys)}; by default the task's for the data ({DefaultModels()})" };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "passes over the training data", DefaultValueFactory = _ => Defaults.Epochs };
    public Option<int?> BatchSize { get; } = new("--batch-size") { Description = $"samples per batch [default: {TaskDefaults(d => d.BatchSize)}]" };
    public Option<string?> Optimizer { get; } = new("--optimizer") { Description = $"sgd, adam, adamw, rmsprop or adagrad [default: {TaskDefaults(d => d.Optimizer)}]" };
    public Option<double?> LearningRate { get; } = new("--lr") { Description = $"learning rate [default: {TaskDefaults(d => d.LearningRate)}]" };
    public Option<string?> Schedule { get; } = new("--schedule") { Description = $"none, step, cosine, warmup-cosine, onecycle or plateau [default: {TaskDefaults(d => d.Schedule)}]" };
    public Option<double?> WeightDecay { get; } = new("--weight-decay") { Description = $"weight decay (decoupled for adamw) [default: {TaskDefaults(d => d.WeightDecay)}]" };
    public Option<double?> ClipGradNorm { get; } = new("--clip-grad-norm") { Description = $"clip the gradient norm to this before each step, 0 for none [default: {TaskDefaults(d => d.ClipGradNorm)}]" };
    public Option<int> GradientAccumulation { get; } = new("--grad-accum") { Description = "batches whose gradients add up to one optimiser step", DefaultValueFactory = _ => Defaults.GradientAccumulation };
    public Option<double> L1 { get; } = new("--l1") { Description = "L1 penalty on weights", DefaultValueFactory = _ => 0 };
    public Option<double> L2 { get; } = new("--l2") { Description = "L2 penalty on weights", DefaultValueFactory = _ => 0 };
    public Option<double> Dropout { get; } = new("--dropout") { Description = "dropout probability", DefaultValueFactory = _ => Defaults.Dropout };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "random seed (same seed, same numbers)", DefaultValueFactory = _ => Defaults.Seed };
    public Option<int> Threads { get; } = new("--threads") { Description = "threads for kernels", DefaultValueFactory = _ => Environment.ProcessorCount };
    public Option<double> ValidationFraction { get; } = new("--val-fraction") { Description = "fraction of the training data held out for validation (an image folder's val/ is used instead when it has one)", DefaultValueFactory = _ => Defaults.ValidationFraction };
    public Option<ulong?> SplitSeed { get; } = new("--split-seed") { Description = "seed of the validation hold-out and of --fold's folds (default: --seed); runs with other --seed values and the same split seed validate on the same samples" };
    public Option<string?> Fold { get; } = new("--fold") { Description = "k/K: cut the training part (after the validation hold-out) into K stratified folds by the split seed and leave fold k out too (cross-fitting, for loom ensemble --out-of-fold)" };
    public Option<int> Patience { get; } = new("--patience") { Description = "stop when validation loss has not improved for this many epochs (0: never)", DefaultValueFactory = _ => 0 };
    public Option<long?> MaxSteps { get; } = new("--max-steps") { Description = "stop after this many optimiser steps" };
    public Option<string> Output { get; } = new("--output") { Description = "folder under which the run folder is created", DefaultValueFactory = _ => "runs" };

    /// <summary>
    /// Each task's options, once per name: tasks may share one (--target, --min-count), each with its own default, so
    /// the help states every declaring task's default, not the first one's.
    /// </summary>
    private readonly List<(TaskOption Declared, Option Option)> _taskOptions = Tasks.All
        .SelectMany(t => t.Options.Select(o => (Task: t.Name, Option: o)))
        .GroupBy(p => p.Option.Name)
        .Select(g => (g.First().Option, g.First().Option.IsFlag
            ? (Option)new Option<bool>(g.Key) { Description = TaskOptionHelp(g.ToList()) }
            : new Option<string?>(g.Key) { Description = TaskOptionHelp(g.ToList()) }))
        .ToList();

    public IEnumerable<Option> All => [Task, Data, Model, Epochs, BatchSize, Optimizer, LearningRate, Schedule, WeightDecay, ClipGradNorm, GradientAccumulation,
        L1, L2, Dropout, Seed, SplitSeed, Threads, ValidationFraction, Fold, Patience, MaxSteps,
        .. _taskOptions.Select(t => t.Option), Output];

    /// <summary>
    /// A command with these options and <paramref name="extra"/> ones. A command's own option may not take the name
    /// of a training or task option: the parser would hand the value to one of them silently.
    /// </summary>
    public Command Command(string name, string description, params Option[] extra)
    {
        var taken = All.Select(o => o.Name).ToHashSet();
        if (extra.FirstOrDefault(o => taken.Contains(o.Name)) is { } clash)
            throw new InvalidOperationException($"loom {name}: its option {clash.Name} has the name of a training or task option");
        var command = new Command(name, description);
        foreach (var o in All.Concat(extra)) command.Options.Add(o);
        return command;
    }

    /// <summary>The config as given: task and model may still be open (see <see cref="Tasks.Resolve"/>).</summary>
    public TrainingConfig Read(ParseResult parse)
    {
        var taskOptions = new JsonObject();
        foreach (var (declared, option) in _taskOptions)
        {
            var text = option is Option<bool> flag ? (parse.GetValue(flag) ? "true" : null) : parse.GetValue((Option<string?>)option);
            if (text is not null) taskOptions[declared.Key] = declared.Parse(text);
        }
        return new TrainingConfig
        {
            Task = parse.GetValue(Task),
            Data = parse.GetValue(Data)!,
            Model = parse.GetValue(Model),
            Epochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(BatchSize),
            Optimizer = parse.GetValue(Optimizer)!,
            LearningRate = parse.GetValue(LearningRate),
            Schedule = parse.GetValue(Schedule)!,
            WeightDecay = parse.GetValue(WeightDecay),
            ClipGradNorm = parse.GetValue(ClipGradNorm),
            GradientAccumulation = parse.GetValue(GradientAccumulation),
            L1 = parse.GetValue(L1),
            L2 = parse.GetValue(L2),
            Dropout = parse.GetValue(Dropout),
            Seed = parse.GetValue(Seed),
            Threads = parse.GetValue(Threads),
            ValidationFraction = parse.GetValue(ValidationFraction),
            SplitSeed = parse.GetValue(SplitSeed),
            Fold = parse.GetValue(Fold) is { } fold ? ParseFold(fold) : null,
            Patience = parse.GetValue(Patience),
            MaxSteps = parse.GetValue(MaxSteps),
            TaskOptions = taskOptions,
        };
    }

    /// <summary>
    /// The config as given, resolved (<see cref="Tasks.Resolve"/>); a task option the user gave that the resolved task
    /// does not read is refused, where it would otherwise be dropped without a word (--dim on scenes, --quick on digits).
    /// </summary>
    public ResolvedConfig Resolve(ParseResult parse, Func<TrainingConfig, TrainingConfig> adjust)
    {
        var resolved = Tasks.Resolve(adjust(Read(parse)));
        foreach (var (declared, option) in _taskOptions)
        {
            if (parse.GetResult(option) is not { Implicit: false } || resolved.Task.Options.Any(o => o.Name == declared.Name)) continue;
            var owners = Tasks.All.Where(t => t.Options.Any(o => o.Name == declared.Name)).Select(t => t.Name).ToList();
            var either = owners.Count == 1 ? owners[0] : string.Join(", ", owners[..^1]) + " or " + owners[^1];
            throw new UserErrorException($"{declared.Name} is read only by --task {either}; {resolved.Config.Data} ({resolved.Kind.Description}) makes a {resolved.Task.Name} run: leave it out, or give --task");
        }
        return resolved;
    }

    /// <summary>"2/5" as fold 2 of 5; anything else is one error line.</summary>
    internal static TrainingFold ParseFold(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 2 && k >= 1 && k <= count)
            return new TrainingFold(k, count);
        throw new UserErrorException($"--fold must be k/K with K ≥ 2 and 1 ≤ k ≤ K (fold k of K left out), got '{text}'");
    }

    // "16 for language-model, 64 for classification": a shared option's default per task.
    private static string TaskDefaults<T>(Func<TrainingDefaults, T> value) =>
        PerTask(Tasks.All.Select(t => (t.Name, string.Format(CultureInfo.InvariantCulture, "{0}", value(t.TrainingDefaults)))));

    // "x", or "x for a, y for b" where the tasks differ.
    private static string PerTask(IEnumerable<(string Task, string Text)> values)
    {
        var list = values.ToList();
        return list.Select(v => v.Text).Distinct().Count() == 1 ? list[0].Text : string.Join(", ", list.Select(v => $"{v.Text} for {v.Task}"));
    }

    /// <summary>
    /// The help of a task option as the tasks that declare it describe it: one description when they share the
    /// declaration (<see cref="SharedTaskOptions"/>), else each task's own; the default of each task that has one.
    /// </summary>
    internal static string TaskOptionHelp(IReadOnlyList<(string Task, TaskOption Option)> declared)
    {
        var descriptions = declared.GroupBy(d => d.Option.Description).ToList();
        string description = descriptions.Count == 1
            ? descriptions[0].Key
            : string.Join("; ", descriptions.Select(g => $"{string.Join(", ", g.Select(d => d.Task))}: {g.Key}"));
        if (declared.All(d => d.Option.DefaultText is null)) return description;
        return $"{description} [default: {PerTask(declared.Select(d => (d.Task, d.Option.DefaultText ?? "none")))}]";
    }

    /// <summary>
    /// A run's saved config with what a resume may change: more epochs, a step limit, a thread count. Any other option
    /// given would change the run being continued (its data, model, optimiser or schedule) and is refused by name,
    /// rather than silently ignored.
    /// </summary>
    public TrainingConfig ForResume(ParseResult parse, TrainingConfig saved)
    {
        Option[] changeable = [Epochs, MaxSteps, Threads];
        bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
        var refused = All.Where(o => Given(o) && !changeable.Contains(o)).Select(o => o.Name).ToList();
        if (refused.Count > 0)
            throw new UserErrorException($"--resume continues the run as its config.json set it up: {string.Join(", ", refused)} cannot change it (only --epochs, --max-steps and --threads can)");
        return saved with
        {
            Epochs = Given(Epochs) ? parse.GetValue(Epochs) : saved.Epochs,
            MaxSteps = Given(MaxSteps) ? parse.GetValue(MaxSteps) : saved.MaxSteps,
            Threads = Given(Threads) ? parse.GetValue(Threads) : saved.Threads,
        };
    }

    /// <summary>
    /// The line a resume prints when --epochs changes a run whose schedule is laid out over its epochs (it stretches or
    /// shrinks to the new count from where the run stopped, as PyTorch's would); null when nothing moves.
    /// </summary>
    public static string? ScheduleChangeNote(TrainingConfig saved, TrainingConfig resumed) =>
        resumed.Epochs == saved.Epochs || resumed.Schedule is "none" or "plateau" ? null
            : $"note: the {resumed.Schedule} schedule now spans {resumed.Epochs} epochs instead of {saved.Epochs}; the learning rate continues on the {(resumed.Epochs > saved.Epochs ? "longer" : "shorter")} curve";

    /// <summary>
    /// Runs <paramref name="body"/> in a new run folder under --output named after <paramref name="name"/>. If it fails
    /// before the folder holds anything worth keeping (<paramref name="worthKeeping"/>: a checkpoint, a finished fold),
    /// the folder is removed, and --output too if this created it and it is left empty: a failed start leaves nothing.
    /// </summary>
    public int InNewRunFolder(ParseResult parse, string name, Func<RunFolder, int> body, Func<RunFolder, bool> worthKeeping)
    {
        var root = parse.GetValue(Output)!;
        bool rootExisted = Directory.Exists(root);
        var folder = RunFolder.CreateUnder(root, name);
        try
        {
            return body(folder);
        }
        catch
        {
            if (!worthKeeping(folder))
            {
                Directory.Delete(folder.Path, recursive: true);
                if (!rootExisted && !Directory.EnumerateFileSystemEntries(root).Any()) Directory.Delete(root);
            }
            throw;
        }
    }

    // "mlp for a CSV table, cnn for images": the first model of each kind of data each task takes.
    private static string DefaultModels() => string.Join(", ", Tasks.All.SelectMany(t => t.Kinds.Select(k => $"{t.Models(k)[0]} for {k.Description}")).Distinct());
}
