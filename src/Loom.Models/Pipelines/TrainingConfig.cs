using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Loom.Models;

/// <summary>
/// Everything a run needs, as `loom train` options; saved as the run folder's config.json so that `loom eval`,
/// `loom predict` and `--resume` can rebuild the same data, model and optimiser. The properties are what every task
/// shares (data, model, optimiser, schedule, seed…); a task's own options (a CSV's target column, an image size) are
/// <see cref="TaskOptions"/>, stored beside them in the same flat JSON object.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>The task's name ("classification"); null until resolved: the task that takes <see cref="Data"/>.</summary>
    public string? Task { get; init; }

    /// <summary>What the task trains on: a built-in dataset name, a file or a folder (see <see cref="ITask.AcceptedData"/>).</summary>
    public string Data { get; init; } = "digits";

    /// <summary>A model of the zoo; null until resolved: the task's default for the kind of data (an MLP for a table, a CNN for images).</summary>
    public string? Model { get; init; }

    public int Epochs { get; init; } = 8;

    // Batch size, optimiser, learning rate, weight decay, schedule and clipping are null until resolved: the task's
    // defaults (TrainingDefaults) fill what was not given, as a CNN is the default model for images — Adam at 2e-3 with
    // a cosine schedule suits a classifier, AdamW with warm-up, weight decay and clipping a language model.

    public int? BatchSize { get; init; }

    /// <summary>sgd, adam, adamw, rmsprop or adagrad.</summary>
    public string? Optimizer { get; init; }

    public double? LearningRate { get; init; }
    public double Momentum { get; init; } = 0.9;
    public double? WeightDecay { get; init; }

    /// <summary>none, step, cosine, warmup-cosine, onecycle or plateau.</summary>
    public string? Schedule { get; init; }

    public double L1 { get; init; }
    public double L2 { get; init; }
    public double Dropout { get; init; } = 0.1;
    public ulong Seed { get; init; } = 42;
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Fraction of the training data held out for validation (stratified when the task has classes).</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Early-stopping patience in epochs on validation loss (0: off).</summary>
    public int Patience { get; init; }

    /// <summary>Clip the global gradient norm to this before each optimiser step; 0 turns clipping off.</summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>Batches whose gradients are summed (each scaled by 1/N) into one optimiser step.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Stop after this many optimiser steps (for quick runs and tests).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>
    /// The task's own options by their snake_case names ("target", "image_size"…), read with
    /// <see cref="GetTaskOptions{T}"/>. In config.json they sit beside the shared options, so files written before
    /// tasks existed read unchanged.
    /// </summary>
    [JsonIgnore]
    public JsonObject? TaskOptions { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    // The JSON names of the shared options; every other key of a config.json is a task option.
    private static readonly HashSet<string> SharedKeys = Json.GetTypeInfo(typeof(TrainingConfig)).Properties.Select(p => p.Name).ToHashSet();

    /// <summary>The task options as <typeparamref name="T"/>; options not given keep <typeparamref name="T"/>'s defaults, other tasks' are ignored.</summary>
    public T GetTaskOptions<T>() where T : new()
    {
        if (TaskOptions is null) return new T();
        try
        {
            return TaskOptions.Deserialize<T>(Json) ?? new T();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"task options {TaskOptions.ToJsonString()}: {e.Message}");
        }
    }

    /// <summary>This config with exactly <paramref name="options"/> as its task options.</summary>
    public TrainingConfig WithTaskOptions<T>(T options) =>
        this with { TaskOptions = (JsonObject)JsonSerializer.SerializeToNode(options, Json)! };

    /// <summary>One flat JSON object: the shared options, then the task's.</summary>
    public string ToJson()
    {
        var json = JsonSerializer.SerializeToNode(this, Json)!.AsObject();
        foreach (var (key, value) in TaskOptions ?? [])
        {
            if (SharedKeys.Contains(key)) throw new InvalidOperationException($"task option '{key}' has the name of a shared option");
            json[key] = value?.DeepClone();
        }
        return json.ToJsonString(Json);
    }

    /// <summary>Reads a config.json; one written before tasks existed (no "task") is a classification run.</summary>
    public static TrainingConfig FromJson(string json, string source)
    {
        TrainingConfig config;
        try
        {
            var node = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: a training configuration must be a JSON object");
            config = node.Deserialize<TrainingConfig>(Json)! with
            {
                TaskOptions = new JsonObject(node.Where(p => !SharedKeys.Contains(p.Key)).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))),
            };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a valid training configuration ({e.Message})");
        }
        return config.Task is null ? config with { Task = ClassificationTask.TaskName } : config;
    }

    /// <summary>This config with the task's defaults wherever a value was not given.</summary>
    public TrainingConfig WithDefaults(TrainingDefaults defaults) => this with
    {
        BatchSize = BatchSize ?? defaults.BatchSize,
        Optimizer = Optimizer ?? defaults.Optimizer,
        LearningRate = LearningRate ?? defaults.LearningRate,
        WeightDecay = WeightDecay ?? defaults.WeightDecay,
        Schedule = Schedule ?? defaults.Schedule,
        ClipGradNorm = ClipGradNorm ?? defaults.ClipGradNorm,
    };

    /// <summary>Checks every shared value; the message names the option. The task checks its own options and the model.</summary>
    public void Validate()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Epochs >= 1, $"--epochs must be at least 1, got {Epochs}");
        Require(BatchSize is null or >= 1, $"--batch-size must be at least 1, got {BatchSize}");
        Require(LearningRate is null || (LearningRate > 0 && double.IsFinite(LearningRate.Value)), $"--lr must be a positive number, got {LearningRate}");
        Require(WeightDecay is null or >= 0, $"--weight-decay must be ≥ 0, got {WeightDecay}");
        Require(ClipGradNorm is null || (ClipGradNorm >= 0 && double.IsFinite(ClipGradNorm.Value)), $"--clip-grad-norm must be ≥ 0 (0: off), got {ClipGradNorm}");
        Require(GradientAccumulation >= 1, $"--grad-accum must be at least 1, got {GradientAccumulation}");
        Require(L1 >= 0 && L2 >= 0, $"--l1 and --l2 must be ≥ 0, got {L1} and {L2}");
        Require(Dropout >= 0 && Dropout < 1, $"--dropout must be in [0, 1), got {Dropout}");
        Require(ValidationFraction >= 0 && ValidationFraction < 1, $"--val-fraction must be in [0, 1), got {ValidationFraction}");
        Require(Threads >= 1, $"--threads must be at least 1, got {Threads}");
        Require(Optimizer is null || new[] { "sgd", "adam", "adamw", "rmsprop", "adagrad" }.Contains(Optimizer), $"--optimizer must be one of sgd, adam, adamw, rmsprop, adagrad; got '{Optimizer}'");
        Require(Schedule is null || new[] { "none", "step", "cosine", "warmup-cosine", "onecycle", "plateau" }.Contains(Schedule), $"--schedule must be one of none, step, cosine, warmup-cosine, onecycle, plateau; got '{Schedule}'");
    }
}

/// <summary>
/// What a task trains with unless told otherwise (<see cref="ITask.TrainingDefaults"/>): the values
/// <see cref="TrainingConfig.WithDefaults"/> fills in when `--batch-size`, `--optimizer`, `--lr`, `--weight-decay`,
/// `--schedule` or `--clip-grad-norm` were not given.
/// </summary>
/// <param name="ClipGradNorm">0: no clipping.</param>
public sealed record TrainingDefaults(int BatchSize, string Optimizer, double LearningRate, double WeightDecay, string Schedule, double ClipGradNorm);
