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

    /// <summary>
    /// Seed of the validation hold-out and of <see cref="Fold"/>'s folds; null: <see cref="Seed"/>. Runs that differ in
    /// <see cref="Seed"/> (initialisation, batch order) but share this hold out the same validation images, so an
    /// ensemble's members and a student distilled from it can all be validated on images none of them trained on.
    /// </summary>
    public ulong? SplitSeed { get; init; }

    /// <summary>
    /// Cross-fitting: the training part (what is left after the validation hold-out) cut into <see cref="TrainingFold.Count"/>
    /// stratified folds by <see cref="SplitSeed"/>, and fold <see cref="TrainingFold.Index"/> left out of training too.
    /// Null: the run trains on the whole training part.
    /// </summary>
    public TrainingFold? Fold { get; init; }

    /// <summary>Early-stopping patience in epochs on validation loss (0: off).</summary>
    public int Patience { get; init; }

    /// <summary>Clip the global gradient norm to this before each optimiser step; 0 turns clipping off.</summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>Batches whose gradients are summed (each scaled by 1/N) into one optimiser step.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Stop after this many optimiser steps (for quick runs and tests).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>
    /// Data-parallel runs only: batch norm normalises over the global batch, every rank's samples together
    /// (<c>SyncBatchNorm</c>), instead of each rank's share of it. Without it, N ranks train as N smaller batches would.
    /// </summary>
    public bool SyncBatchNorm { get; init; }

    /// <summary>
    /// How the run's weights are quantised: null for float, "dynamic-int8" or "static-int8" for a run written by
    /// <c>loom quantize</c> (its model.safetensors holds int8 layers; eval and predict rebuild the model in that form).
    /// </summary>
    public string? Quantization { get; init; }

    /// <summary>
    /// Units each structurally pruned layer kept, by layer name (written by <c>loom prune --structured</c>): the model
    /// is built at these sizes, so the run's pruned weights fit it.
    /// </summary>
    public Dictionary<string, int>? PrunedUnits { get; init; }

    /// <summary>
    /// Heads each attention layer kept, by layer name (written by <c>loom prune --heads</c>): the model is built with
    /// these head counts, so the run's sliced projections fit it.
    /// </summary>
    public Dictionary<string, int>? PrunedHeads { get; init; }

    /// <summary>
    /// How a run written by <c>loom distill</c> was taught (its teacher run and loss): `loom distill --resume` continues
    /// it with these, where a plain resume would train on without the teacher. Null for every other run.
    /// </summary>
    public DistillationConfig? Distillation { get; init; }

    /// <summary>
    /// The member runs of an ensemble (written by <c>loom ensemble</c>, model <see cref="Models.Ensemble.ModelName"/>):
    /// each run folder with the SHA-256 of its weights, so that loading refuses a member retrained or replaced since.
    /// Null for every other run.
    /// </summary>
    public List<EnsembleMember>? Ensemble { get; init; }

    /// <summary>
    /// An ensemble whose output for a sample averages only the members that did not train on it (written by
    /// <c>loom ensemble --out-of-fold</c>; each member then records how its training split is reproduced). Null (plain
    /// mean of every member) for every other run.
    /// </summary>
    public bool? OutOfFold { get; init; }

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
    /// <exception cref="InvalidDataException">An option of the wrong type, named with the type it needs.</exception>
    public T GetTaskOptions<T>() where T : new()
    {
        if (TaskOptions is null) return new T();
        try
        {
            return TaskOptions.Deserialize<T>(Json) ?? new T();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(WrongType(e, TaskOptions, typeof(T)));
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

    /// <summary>The keys every config.json `loom train` writes has, whatever its version: what the run trained on and which model.</summary>
    private static readonly string[] RequiredKeys = ["data", "model"];

    /// <summary>
    /// Reads a config.json; one written before tasks existed (no "task") is a classification run. A file that is
    /// empty, not JSON, not an object, lacks "data" or "model", or has a value of the wrong type is an
    /// <see cref="InvalidDataException"/> of one line starting with <paramref name="source"/>.
    /// </summary>
    public static TrainingConfig FromJson(string json, string source)
    {
        if (string.IsNullOrWhiteSpace(json)) throw new InvalidDataException($"{source} is empty: a training configuration is a JSON object such as loom train writes");
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON (line {e.LineNumber + 1}, column {e.BytePositionInLine + 1})");
        }
        if (parsed is not JsonObject node)
            throw new InvalidDataException($"{source}: a training configuration is a JSON object {{…}}, but the file holds {(parsed is JsonArray ? "a list" : parsed is null ? "null" : "a single value")}");
        var missing = RequiredKeys.Where(k => node[k] is null).ToArray();
        if (missing.Length > 0)
            throw new InvalidDataException($"{source}: lacks {string.Join(" and ", missing.Select(k => $"\"{k}\""))}, which every config.json loom train writes has");
        TrainingConfig config;
        try
        {
            config = node.Deserialize<TrainingConfig>(Json)! with
            {
                TaskOptions = new JsonObject(node.Where(p => !SharedKeys.Contains(p.Key)).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))),
            };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: {WrongType(e, node, typeof(TrainingConfig))}");
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

    /// <summary>"\"epochs\" must be a whole number, got \"many\"": the key a deserialisation failed on, what it needs and what it holds.</summary>
    private static string WrongType(JsonException e, JsonObject node, Type type)
    {
        // The path is "$.epochs" or "$.image_size[1]": the top-level key is what the user edits.
        var key = e.Path is { Length: > 2 } path ? path[2..].Split('[', '.')[0] : null;
        var property = key is null ? null : Json.GetTypeInfo(type).Properties.FirstOrDefault(p => p.Name == key);
        if (key is null || property is null) return $"a value has the wrong type ({e.Path})";
        return $"\"{key}\" must be {Describe(property.PropertyType)}, got {node[key]?.ToJsonString() ?? "null"}";
    }

    private static string Describe(Type type, bool plural = false)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return plural ? "strings" : "a string";
        if (type == typeof(bool)) return plural ? "true or false values" : "true or false";
        if (type == typeof(double) || type == typeof(float)) return plural ? "numbers" : "a number";
        if (type == typeof(ulong) || type == typeof(uint)) return plural ? "whole numbers ≥ 0" : "a whole number ≥ 0";
        if (type.IsPrimitive) return plural ? "whole numbers" : "a whole number";
        var element = type.IsArray ? type.GetElementType() : type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        return element is null ? $"a {type.Name}" : $"a list of {Describe(element, plural: true)}";
    }

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
        // 0 took one step anyway (the trainer checks after each), and a negative count failed inside TrainerOptions.
        Require(MaxSteps is null or >= 1, $"--max-steps must be at least 1, got {MaxSteps}");
        Require(L1 >= 0 && L2 >= 0, $"--l1 and --l2 must be ≥ 0, got {L1} and {L2}");
        Require(Dropout >= 0 && Dropout < 1, $"--dropout must be in [0, 1), got {Dropout}");
        Require(ValidationFraction >= 0 && ValidationFraction < 1, $"--val-fraction must be in [0, 1), got {ValidationFraction}");
        Require(Fold is null || (Fold.Count >= 2 && Fold.Index >= 1 && Fold.Index <= Fold.Count), $"--fold must be k/K with K ≥ 2 and 1 ≤ k ≤ K, got {Fold}");
        Require(Threads >= 1, $"--threads must be at least 1, got {Threads}");
        Require(Optimizer is null || new[] { "sgd", "adam", "adamw", "rmsprop", "adagrad" }.Contains(Optimizer), $"--optimizer must be one of sgd, adam, adamw, rmsprop, adagrad; got '{Optimizer}'");
        Require(Quantization is null or Compress.Quantization.DynamicInt8 or Compress.StaticQuantization.StaticInt8,
            $"quantization must be {Compress.Quantization.DynamicInt8} or {Compress.StaticQuantization.StaticInt8} (or absent), got '{Quantization}'");
        Require(Schedule is null || new[] { "none", "step", "cosine", "warmup-cosine", "onecycle", "plateau" }.Contains(Schedule), $"--schedule must be one of none, step, cosine, warmup-cosine, onecycle, plateau; got '{Schedule}'");
    }
}

/// <summary>What config.json keeps of a distillation (<see cref="TrainingConfig.Distillation"/>).</summary>
/// <param name="Teacher">The teacher's run folder, as a full path.</param>
/// <param name="TeacherSha256">SHA-256 of the teacher's model.safetensors when the run started (hex): a resume refuses a teacher retrained since.</param>
/// <param name="Temperature">Softmax temperature of the soft targets.</param>
/// <param name="Alpha">Weight of the soft-target term (1 − alpha on the labels).</param>
/// <param name="Mixup">Every training batch mixed with a shuffled copy of itself, the teacher scoring the mixed batch.</param>
/// <param name="HintWeight">Weight of the FitNets hint (0: none).</param>
public sealed record DistillationConfig(string Teacher, string TeacherSha256, double Temperature, double Alpha, bool Mixup, double HintWeight);

/// <summary>Which fold a cross-fitted run leaves out (<see cref="TrainingConfig.Fold"/>): fold <paramref name="Index"/> (1-based) of <paramref name="Count"/>.</summary>
public sealed record TrainingFold(int Index, int Count)
{
    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>One member of an ensemble run (<see cref="TrainingConfig.Ensemble"/>).</summary>
/// <param name="Run">The member's run folder, as a full path.</param>
/// <param name="Sha256">SHA-256 of its model.safetensors when the ensemble was made (hex).</param>
public sealed record EnsembleMember(string Run, string Sha256)
{
    /// <summary>Out-of-fold ensembles only: the seed of the member's validation hold-out and folds when the ensemble was made.</summary>
    public ulong? SplitSeed { get; init; }

    /// <summary>Out-of-fold ensembles only: the fold the member left out (null: it trained on its whole training part).</summary>
    public TrainingFold? Fold { get; init; }

    /// <summary>
    /// Out-of-fold ensembles only: SHA-256 of the member's training rows (the indices into the data's training split,
    /// ascending, as 32-bit little-endian integers), reproduced from its config.json when the ensemble was made; a load
    /// that reproduces other rows refuses the member.
    /// </summary>
    public string? TrainedRowsSha256 { get; init; }
}

/// <summary>
/// What a task trains with unless told otherwise (<see cref="ITask.TrainingDefaults"/>): the values
/// <see cref="TrainingConfig.WithDefaults"/> fills in when `--batch-size`, `--optimizer`, `--lr`, `--weight-decay`,
/// `--schedule` or `--clip-grad-norm` were not given.
/// </summary>
/// <param name="ClipGradNorm">0: no clipping.</param>
public sealed record TrainingDefaults(int BatchSize, string Optimizer, double LearningRate, double WeightDecay, string Schedule, double ClipGradNorm);
