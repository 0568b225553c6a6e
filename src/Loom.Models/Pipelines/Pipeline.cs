using System.Text.Json.Nodes;
using Loom.Data;
using Loom.Nn;
using Loom.Nn.Serialization;
using Loom.Random;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// Train, evaluate, predict and cross-validate any task from a <see cref="TrainingConfig"/>: the machinery behind
/// `loom train`, `loom eval`, `loom predict` and `loom cv`, shared by every task. The task (<see cref="ITask"/>)
/// supplies data, model, loss, metrics and its report; this class assembles the <see cref="Trainer"/> (optimiser,
/// schedule, callbacks, checkpoints) and writes everything to a <see cref="RunFolder"/>.
/// </summary>
public static class Pipeline
{
    /// <summary>Everything a run trains with.</summary>
    public sealed record Setup(TrainingConfig Config, ITask Task, TaskData Data, Module<Tensor, Tensor> Model, Trainer Trainer,
        DataLoader<Sample> TrainLoader, DataLoader<Sample>? ValidationLoader, DataLoader<Sample> TestLoader);

    /// <summary>
    /// Resolves the config's task and model (<see cref="Tasks.Resolve"/>), then builds data (unless given), model,
    /// optimiser, schedule, loss and trainer; with <paramref name="folder"/>, adds logging and checkpoints there.
    /// </summary>
    public static Setup Prepare(TrainingConfig config, RunFolder? folder, IEnumerable<ICallback>? extraCallbacks = null, TaskData? data = null)
    {
        var (task, _, resolved) = Tasks.Resolve(config);
        config = resolved;
        Loom.Threads.Count = config.Threads;
        data ??= task.Load(config);
        var train = data.Train;
        IDataset<Sample>? validation = null;
        if (config.ValidationFraction > 0) (train, validation) = data.HoldOut(config.ValidationFraction, config.Seed);
        var model = CreateModel(task, config, data);
        var optimizer = CreateOptimizer(config, model);
        var trainLoader = new DataLoader<Sample>(train, config.BatchSize!.Value, shuffle: true, seed: config.Seed);
        // With gradient accumulation an epoch takes fewer optimiser steps than batches; per-step schedules count steps.
        int stepsPerEpoch = (trainLoader.Count + config.GradientAccumulation - 1) / config.GradientAccumulation;
        var (scheduler, perStep) = CreateScheduler(config, optimizer, stepsPerEpoch);
        string monitor = validation is null ? "loss" : "val_loss";
        var callbacks = new List<ICallback>();
        if (folder is not null) callbacks.Add(new RunLogger(folder));
        if (config.Patience > 0) callbacks.Add(new EarlyStopping(monitor, config.Patience));
        if (config.Schedule == "plateau") callbacks.Add(new PlateauCallback(new ReduceLROnPlateau(optimizer, patience: 1, factor: 0.3), monitor));
        callbacks.AddRange(extraCallbacks ?? []);
        // Last, so that the epoch's checkpoint holds what the other callbacks changed at its end (patience counters, a
        // reduced learning rate); saved before them, a resumed run would miss that epoch's updates.
        if (folder is not null) callbacks.Add(new ModelCheckpoint(folder.Path, monitor));
        var options = new TrainerOptions
        {
            Epochs = config.Epochs,
            Seed = config.Seed,
            SchedulerStepPerBatch = perStep,
            ClipGradNorm = config.ClipGradNorm > 0 ? config.ClipGradNorm : null,
            GradientAccumulationSteps = config.GradientAccumulation,
            MaxSteps = config.MaxSteps,
        };
        var trainer = new Trainer(model, optimizer, WithPenalties(config, model, task.Loss(data)), options, task.Metrics(data), callbacks, scheduler);
        return new Setup(config, task, data, model, trainer, trainLoader,
            validation is null ? null : Batches(validation, data.EvaluationBatchSize),
            Batches(data.Test, data.EvaluationBatchSize));
    }

    /// <summary>
    /// Trains (resuming from the folder's last checkpoint when <paramref name="resume"/>), then evaluates on the test
    /// split and writes model, report, curves and the task's figures into the folder.
    /// </summary>
    public static RunResult Train(Setup setup, RunFolder folder, bool resume = false)
    {
        if (resume)
        {
            if (!File.Exists(folder.CheckpointPath)) throw new FileNotFoundException($"{folder.Path} has no checkpoint (last.ckpt) to resume from", folder.CheckpointPath);
            setup.Trainer.LoadCheckpoint(folder.CheckpointPath);
            // A run killed after logging an epoch but before checkpointing it trains that epoch again: keep one line per epoch.
            folder.RewriteMetrics(line => (string?)line["kind"] == "epoch" && (int?)line["epoch"] <= setup.Trainer.Epoch);
        }
        else
        {
            folder.WriteConfig((JsonObject)JsonNode.Parse(setup.Config.ToJson())!);
        }
        setup.Data.Save(folder);
        var fit = setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        SafeTensors.Save(folder.ModelPath, setup.Model.StateDict());
        // Interrupted mid-epoch (Ctrl-C): the checkpoint is written, the report waits for the resumed run. --max-steps
        // ends the run on purpose, mid-epoch or not, so it gets its report.
        bool reachedMaxSteps = setup.Config.MaxSteps is long max && setup.Trainer.GlobalStep >= max;
        if (setup.Trainer.BatchInEpoch > 0 && !reachedMaxSteps) return new RunResult(fit, null, folder);
        var test = setup.Task.Evaluate(setup.Trainer.Evaluator, setup.Data, setup.TestLoader);
        var line = new JsonObject { ["kind"] = "test", ["loss"] = test.Loss, ["samples"] = test.Samples };
        foreach (var (k, v) in test.Metrics) line[k] = v;
        folder.AppendMetrics(line);
        if (setup.Trainer.History.Count > 0) Plots.Curves(setup.Trainer.History, folder.CurvesPath);
        var plots = test.WritePlots(folder);
        File.WriteAllText(folder.ReportPath, Report.Markdown(setup, fit, test, plots));
        return new RunResult(fit, test, folder);
    }

    /// <summary>
    /// Rebuilds a trained run from its config.json (an older one without a task is classification) and loads
    /// model.safetensors, or best.safetensors when <paramref name="best"/>. <paramref name="data"/> replaces the run's
    /// data (read the way its training data was); <paramref name="threads"/> replaces its thread count, which is set.
    /// </summary>
    public static TrainedRun Load(RunFolder folder, string? data = null, bool best = false, int? threads = null)
    {
        if (!File.Exists(folder.ConfigPath)) throw new FileNotFoundException($"{folder.Path} is not a Loom run folder (no config.json)", folder.ConfigPath);
        var config = TrainingConfig.FromJson(File.ReadAllText(folder.ConfigPath), folder.ConfigPath);
        if (data is not null) config = config with { Data = data };
        if (threads is not null) config = config with { Threads = threads.Value };
        var (task, _, resolved) = Tasks.Resolve(config);
        Loom.Threads.Count = resolved.Threads;
        var loaded = task.Load(resolved, folder);
        var model = CreateModel(task, resolved, loaded);
        var weights = best && File.Exists(folder.BestModelPath) ? folder.BestModelPath : folder.ModelPath;
        if (!File.Exists(weights)) throw new FileNotFoundException($"{folder.Path} has no trained model ({Path.GetFileName(weights)})", weights);
        model.LoadStateDict(SafeTensors.Load(weights).Tensors);
        model.Eval();
        return new TrainedRun(resolved, task, loaded, model);
    }

    /// <summary>
    /// K-fold cross-validation of a config's recipe on <paramref name="data"/>'s training split (stratified when the
    /// task has classes): each fold gets its data from <see cref="TaskData.Fold"/>, so what is fitted on data (a
    /// standardisation) is fitted on the fold's training rows only, trains without a validation hold-out, and is
    /// scored on its held-out rows.
    /// </summary>
    public static CrossValidationResult CrossValidate(TrainingConfig config, TaskData data, int folds, Action<FoldResult>? onFold = null)
    {
        var (task, _, resolved) = Tasks.Resolve(config with { ValidationFraction = 0 });
        Loom.Threads.Count = resolved.Threads;
        return CrossValidation.Run(data.Train.Count, data.Strata, folds, resolved.Seed, fold =>
        {
            var foldData = data.Fold(fold.Train, fold.Validation);
            var setup = Prepare(resolved, null, data: foldData);
            setup.Trainer.Fit(setup.TrainLoader);
            var eval = task.Evaluate(setup.Trainer.Evaluator, foldData, setup.TestLoader);
            return new Dictionary<string, double>(eval.Metrics) { ["loss"] = eval.Loss };
        }, onFold);
    }

    /// <summary>The model, initialised from the config's seed.</summary>
    public static Module<Tensor, Tensor> CreateModel(ITask task, TrainingConfig config, TaskData data)
    {
        Generator.ManualSeed(config.Seed);
        return task.CreateModel(config, data);
    }

    public static Optimizer CreateOptimizer(TrainingConfig c, Module model)
    {
        // Weight decay applies to weights, not to biases and normalisation parameters.
        var decay = model.NamedParameters().Where(p => p.Parameter.Rank >= 2).Select(p => p.Parameter).ToList();
        var noDecay = model.NamedParameters().Where(p => p.Parameter.Rank < 2).Select(p => p.Parameter).ToList();
        var groups = new List<ParamGroup> { new(decay) };
        if (noDecay.Count > 0) groups.Add(new ParamGroup(noDecay, weightDecay: 0));
        double lr = Resolved(c.LearningRate, "learning rate"), weightDecay = Resolved(c.WeightDecay, "weight decay");
        return c.Optimizer switch
        {
            "sgd" => new Sgd(groups, lr, momentum: c.Momentum, weightDecay: weightDecay, nesterov: c.Momentum > 0),
            "adam" => new Adam(groups, lr, weightDecay: weightDecay),
            "adamw" => new AdamW(groups, lr, weightDecay: weightDecay),
            "rmsprop" => new RmsProp(groups, lr, weightDecay: weightDecay, momentum: c.Momentum),
            "adagrad" => new Adagrad(groups, lr, weightDecay: weightDecay),
            _ => throw new ArgumentException($"unknown optimizer '{c.Optimizer}'"),
        };
    }

    /// <summary>The LR schedule; per-step schedules report <c>perStep</c>.</summary>
    /// <remarks>Per-step schedules span the run: its epochs, or its --max-steps when that ends it sooner.</remarks>
    public static (LRScheduler? Scheduler, bool PerStep) CreateScheduler(TrainingConfig c, Optimizer optimizer, int stepsPerEpoch)
    {
        int total = (int)Math.Min((long)c.Epochs * stepsPerEpoch, c.MaxSteps ?? long.MaxValue);
        return c.Schedule switch
        {
            "none" or "plateau" => (null, false),
            "step" => (new StepLR(optimizer, Math.Max(1, c.Epochs / 3), 0.3), false),
            "cosine" => (new CosineAnnealingLR(optimizer, Math.Max(1, total)), true),
            "warmup-cosine" => (new WarmupCosineLR(optimizer, Math.Max(1, Math.Min(stepsPerEpoch / 2, total / 10)), total + 1), true),
            "onecycle" => (new OneCycleLR(optimizer, Resolved(c.LearningRate, "learning rate"), total + 1), true),
            _ => throw new ArgumentException($"unknown schedule '{c.Schedule}'"),
        };
    }

    // Set by Tasks.Resolve from the task's defaults; a config built by hand must be resolved first.
    private static double Resolved(double? value, string what) =>
        value ?? throw new InvalidOperationException($"the config has no {what}: resolve it with Tasks.Resolve first");

    /// <summary>The task's loss plus the config's L1/L2 penalties on weights (not biases or normalisation parameters).</summary>
    public static Func<Tensor, Tensor, Tensor> WithPenalties(TrainingConfig c, Module model, Func<Tensor, Tensor, Tensor> loss)
    {
        if (c.L1 == 0 && c.L2 == 0) return loss;
        var weights = Regularization.WeightsOnly(model).ToList();
        return (output, target) =>
        {
            var total = loss(output, target);
            if (c.L1 > 0) total = total.Add(Regularization.L1(weights, c.L1));
            if (c.L2 > 0) total = total.Add(Regularization.L2(weights, c.L2));
            return total;
        };
    }

    /// <summary>A dataset's samples in order, in evaluation-sized batches.</summary>
    public static DataLoader<Sample> Batches(IDataset<Sample> data, int batchSize) => new(data, batchSize);

    // In-memory rows are copied (contiguous batches later); other datasets are indexed through.
    internal static IDataset<Sample> Rows(IDataset<Sample> data, int[] indices) =>
        data is TensorDataset rows ? rows.Gather(indices) : new Subset<Sample>(data, indices);
}

/// <summary>What a finished (or interrupted: no test evaluation) run produced.</summary>
public sealed record RunResult(FitResult Fit, TaskEvaluation? Test, RunFolder Folder);

/// <summary>A trained run loaded for evaluation or prediction (<see cref="Pipeline.Load"/>): no optimiser, the model in eval mode.</summary>
public sealed record TrainedRun(TrainingConfig Config, ITask Task, TaskData Data, Module<Tensor, Tensor> Model)
{
    /// <summary>The task's loss (without training penalties) and metrics over this model.</summary>
    public Evaluator Evaluator => new(Model, Task.Loss(Data), Task.Metrics(Data));

    /// <summary>Loss, metrics and the task's report on the test split.</summary>
    public TaskEvaluation Evaluate() => Task.Evaluate(Evaluator, Data, Pipeline.Batches(Data.Test, Data.EvaluationBatchSize));

    /// <summary>One row per test sample (see <see cref="ITask.Predict"/>).</summary>
    public ResultTable Predict() => Task.Predict(Evaluator, Data, Pipeline.Batches(Data.Test, Data.EvaluationBatchSize));
}
