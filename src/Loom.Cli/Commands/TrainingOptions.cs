using System.CommandLine;
using System.Text.Json.Nodes;
using Loom.Models;

namespace Loom.Cli.Commands;

/// <summary>
/// The options `loom train` and `loom cv` share, and their mapping onto a <see cref="TrainingConfig"/>: the options
/// every task has, then each task's own (<see cref="ITask.Options"/>), which reach the config as given.
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
    public Option<double> ValidationFraction { get; } = new("--val-fraction") { Description = "fraction of the training data held out for validation", DefaultValueFactory = _ => Defaults.ValidationFraction };
    public Option<int> Patience { get; } = new("--patience") { Description = "stop when validation loss has not improved for this many epochs (0: never)", DefaultValueFactory = _ => 0 };
    public Option<long?> MaxSteps { get; } = new("--max-steps") { Description = "stop after this many optimiser steps" };

    /// <summary>Each task's options, once per name (tasks may share one, such as --target).</summary>
    private readonly List<(TaskOption Declared, Option<string?> Option)> _taskOptions = Tasks.All.SelectMany(t => t.Options)
        .DistinctBy(o => o.Name)
        .Select(o => (o, new Option<string?>(o.Name) { Description = o.DefaultText is null ? o.Description : $"{o.Description} [default: {o.DefaultText}]" }))
        .ToList();

    public IEnumerable<Option> All => [Task, Data, Model, Epochs, BatchSize, Optimizer, LearningRate, Schedule, WeightDecay, ClipGradNorm, GradientAccumulation,
        L1, L2, Dropout, Seed, Threads, ValidationFraction, Patience, MaxSteps,
        .. _taskOptions.Select(t => t.Option)];

    /// <summary>The config as given: task and model may still be open (see <see cref="Tasks.Resolve"/>).</summary>
    public TrainingConfig Read(ParseResult parse)
    {
        var taskOptions = new JsonObject();
        foreach (var (declared, option) in _taskOptions)
            if (parse.GetValue(option) is { } text)
                taskOptions[declared.Key] = declared.Parse(text);
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
            Patience = parse.GetValue(Patience),
            MaxSteps = parse.GetValue(MaxSteps),
            TaskOptions = taskOptions,
        };
    }

    // "16 for language-model, 64 for classification": a shared option's default per task.
    private static string TaskDefaults<T>(Func<TrainingDefaults, T> value) =>
        string.Join(", ", Tasks.All.Select(t => $"{string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}", value(t.TrainingDefaults))} for {t.Name}"));

    // "mlp for a CSV table, cnn for images": the first model of each kind of data each task takes.
    private static string DefaultModels() => string.Join(", ", Tasks.All.SelectMany(t => t.Kinds.Select(k => $"{t.Models(k)[0]} for {k.Description}")).Distinct());
}
