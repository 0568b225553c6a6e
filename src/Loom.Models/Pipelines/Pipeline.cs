using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Distributed;
using Loom.Nn.Serialization;
using Loom.Random;

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
    /// <param name="world">Train data-parallel over these ranks (Note [Distributed]): the config's batch size is the
    /// global batch, split evenly over the ranks, each rank loads its shard of every epoch, gradients are averaged,
    /// and rank 0 alone logs and writes checkpoints. The same config then trains the same way on any number of ranks,
    /// which is what lets a run resume with another rank count.</param>
    /// <param name="loss">The training loss instead of the task's (knowledge distillation: the task loss blended with
    /// the teacher's softened outputs); metrics and the test evaluation's metrics are the task's.</param>
    /// <param name="lossModule">A module whose parameters <paramref name="loss"/> uses (a hint loss's regressor): the
    /// optimiser trains them with the model's, and they are not part of the model (not in its saved weights nor in its
    /// checkpoints, so a run with one does not resume; nor averaged over data-parallel ranks, so it is refused with
    /// <paramref name="world"/>).</param>
    public static Setup Prepare(TrainingConfig config, RunFolder? folder, IEnumerable<ICallback>? extraCallbacks = null, TaskData? data = null,
        Communicator? world = null, Func<Tensor, Tensor, Tensor>? loss = null, Module? lossModule = null)
    {
        if (world is not null && lossModule is not null)
            throw new ArgumentException("a loss module's gradients are not averaged over data-parallel ranks: train it in one process", nameof(lossModule));
        var (task, _, resolved) = Tasks.Resolve(config);
        config = resolved;
        Loom.Threads.Count = config.Threads;
        data ??= task.Load(config);
        var train = data.Train;
        var validation = data.Validation;
        if (config.Fold is not null)
        {
            var (trained, heldOut) = TrainingRows(config, data);
            train = Rows(data.Train, trained);
            if (validation is null && heldOut.Length > 0) validation = Rows(data.Train, heldOut);
        }
        else if (validation is null && config.ValidationFraction > 0) (train, validation) = data.HoldOut(config.ValidationFraction, config.SplitSeed ?? config.Seed);
        if (train.Count == 0) throw new InvalidDataException($"{data.Description}: no training samples");
        if (data.Test.Count == 0) throw new InvalidDataException($"{data.Description}: no test samples");
        var model = CreateModel(task, config, data);
        // Before the optimiser: the synchronised layers carry new parameter objects.
        if (world is not null && config.SyncBatchNorm) SyncBatchNorm.ConvertAll(model, world);
        var optimizer = CreateOptimizer(config, model, lossModule);
        var trainLoader = world is null
            ? new DataLoader<Sample>(data.ForTraining(train), config.BatchSize!.Value, shuffle: true, seed: config.Seed)
            : new DataLoader<Sample>(data.ForTraining(train), PerRankBatch(config.BatchSize!.Value, world.Size), seed: config.Seed,
                sampler: new DistributedSampler(train.Count, world.Rank, world.Size), prefetch: RankPrefetch(config.Threads));
        bool main = world is null || world.Rank == 0;
        // With gradient accumulation an epoch takes fewer optimiser steps than batches; per-step schedules count steps.
        int stepsPerEpoch = (trainLoader.Count + config.GradientAccumulation - 1) / config.GradientAccumulation;
        var (scheduler, perStep) = CreateScheduler(config, optimizer, stepsPerEpoch);
        string monitor = validation is null ? "loss" : "val_loss";
        var callbacks = new List<ICallback>();
        if (folder is not null && main) callbacks.Add(new RunLogger(folder));
        if (config.Patience > 0) callbacks.Add(new EarlyStopping(monitor, config.Patience));
        if (config.Schedule == "plateau") callbacks.Add(new PlateauCallback(new ReduceLROnPlateau(optimizer, patience: 1, factor: 0.3), monitor));
        callbacks.AddRange(extraCallbacks ?? []);
        // Last, so that the epoch's checkpoint holds what the other callbacks changed at its end (patience counters, a
        // reduced learning rate); saved before them, a resumed run would miss that epoch's updates.
        if (folder is not null && main) callbacks.Add(new ModelCheckpoint(folder.Path, monitor));
        var options = new TrainerOptions
        {
            Epochs = config.Epochs,
            Seed = config.Seed,
            SchedulerStepPerBatch = perStep,
            ClipGradNorm = config.ClipGradNorm > 0 ? config.ClipGradNorm : null,
            GradientAccumulationSteps = config.GradientAccumulation,
            MaxSteps = config.MaxSteps,
        };
        var trainer = new Trainer(model, optimizer, WithPenalties(config, model, loss ?? task.Loss(data)), options, task.Metrics(data), callbacks, scheduler);
        if (world is not null) trainer.DataParallel = new DistributedDataParallel(model, world);
        return new Setup(config, task, data, model, trainer, trainLoader,
            validation is null ? null : Batches(validation, data.EvaluationBatchSize),
            Batches(data.Test, data.EvaluationBatchSize));
    }

    /// <summary>
    /// Batches a data-parallel rank's loader prepares on a worker thread: none (the batch is loaded on the training
    /// thread) when the rank has no core beyond its compute threads, as when <c>loom launch</c> binds each rank to its
    /// own cores. A worker then only takes the rank's own core from its training thread, and costs a thread hand-off
    /// each step: 2 ranks of the CLI's Fashion-MNIST loop, against unbound ranks in the same run, gained 1.01× bound
    /// to the 2 cores of a machine with the worker and 1.08× with the batch loaded inline (Note [Distributed], session 28).
    /// </summary>
    internal static int RankPrefetch(int threads) => Environment.ProcessorCount > threads ? 2 : 0;

    /// <summary>
    /// Trains (resuming from the folder's last checkpoint when <paramref name="resume"/>), then evaluates on the test
    /// split and writes model, report, curves and the task's figures into the folder.
    /// </summary>
    public static RunResult Train(Setup setup, RunFolder folder, bool resume = false)
    {
        // Data-parallel ranks other than 0 train and evaluate like rank 0 but write nothing: one run folder, one writer.
        bool main = setup.Trainer.DataParallel is not { Rank: > 0 };
        if (resume)
        {
            if (!File.Exists(folder.CheckpointPath))
                throw new FileNotFoundException(IsCrossValidation(folder) ? CrossValidationHasNoModel(folder) : $"{folder.Path} has no checkpoint (last.ckpt) to resume from", folder.CheckpointPath);
            TrainedWeights.Fit(() => setup.Trainer.LoadCheckpoint(folder.CheckpointPath), folder.CheckpointPath, folder, setup.Config.Model);
            var trainer = setup.Trainer;
            int started = trainer.Epoch + (trainer.BatchInEpoch > 0 ? 1 : 0);
            if (setup.Config.Epochs < started)
                throw new ArgumentException($"--epochs {setup.Config.Epochs}: the run has already {(trainer.BatchInEpoch > 0 ? $"started epoch {started}" : $"trained {trainer.Epoch} epochs")}; " +
                    $"give --epochs {started} or more to continue it");
            CheckMetricsLines(folder);
            if (main)
            {
                // Options a resume may change (more epochs, another thread count) are recorded for the next resume and for eval.
                if (Tasks.Resolve(ReadConfig(folder)).Config.ToJson() != setup.Config.ToJson()) folder.WriteConfig(Stored(setup.Config));
                // A run killed after logging an epoch but before checkpointing it trains that epoch again: keep one line per epoch.
                folder.RewriteMetrics(line => (string?)line["kind"] == "epoch" && (int?)line["epoch"] <= trainer.Epoch);
            }
        }
        else if (main)
        {
            folder.WriteConfig(Stored(setup.Config));
        }
        if (main) setup.Data.Save(folder);
        var fit = setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        if (!main) return new RunResult(fit, null, folder);
        SafeTensors.Save(folder.ModelPath, setup.Model.StateDict());
        // Interrupted (Ctrl-C, SIGTERM), mid-epoch or at an epoch's end: the checkpoint is written, the report waits for
        // the resumed run. --max-steps ends the run on purpose, mid-epoch or not, so it gets its report.
        bool reachedMaxSteps = setup.Config.MaxSteps is long max && setup.Trainer.GlobalStep >= max;
        if (fit.Interrupted || (setup.Trainer.BatchInEpoch > 0 && !reachedMaxSteps)) return new RunResult(fit, null, folder);
        var test = setup.Task.Evaluate(setup.Trainer.Evaluator, setup.Data, setup.TestLoader);
        var line = new JsonObject { ["kind"] = "test", ["loss"] = JsonNumber(test.Loss), ["samples"] = test.Samples };
        foreach (var (k, v) in test.Metrics) line[k] = JsonNumber(v);
        folder.AppendMetrics(line);
        if (setup.Trainer.History.Count > 0) Plots.Curves(setup.Trainer.History, folder.CurvesPath);
        var plots = test.WritePlots(folder);
        File.WriteAllText(folder.ReportPath, Report.Markdown(setup, fit, test, plots));
        return new RunResult(fit, test, folder);
    }

    /// <summary>
    /// A metric for metrics.jsonl: a number, or null when it is not finite (a NaN loss, an F1 of no samples). JSON has
    /// no NaN or infinity; null keeps the line valid for every JSON reader, as the epoch lines (RunLogger) do.
    /// </summary>
    public static JsonNode? JsonNumber(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>
    /// The config as config.json keeps it: a data file or folder by its absolute path, so that eval, predict and
    /// --resume find it from any working directory; a built-in dataset by its name.
    /// </summary>
    public static JsonObject Stored(TrainingConfig config)
    {
        bool isPath = !BuiltinDatasets.Names.Contains(config.Data, StringComparer.OrdinalIgnoreCase) && (File.Exists(config.Data) || Directory.Exists(config.Data));
        return (JsonObject)JsonNode.Parse((isPath ? config with { Data = Path.GetFullPath(config.Data) } : config).ToJson())!;
    }

    /// <summary>
    /// A run folder's config.json, checked as far as it can be without its data: valid JSON of the right types, a task
    /// and model Loom knows, valid option values. Each problem is one line naming the file.
    /// </summary>
    public static TrainingConfig ReadConfig(RunFolder folder)
    {
        var path = folder.ConfigPath;
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder.Path} is not a Loom run folder (no config.json)", path);
        var config = TrainingConfig.FromJson(File.ReadAllText(path), path);
        try
        {
            if (!Tasks.All.Any(t => t.Name == config.Task))
                throw new InvalidDataException($"\"task\" is '{config.Task}', which this Loom does not know (tasks: {string.Join(", ", Tasks.All.Select(t => t.Name))})");
            if (config.Ensemble is not null && config.Model != Ensemble.ModelName)
                throw new InvalidDataException($"\"ensemble\" lists member runs, but \"model\" is '{config.Model}' rather than '{Ensemble.ModelName}'");
            if (config.Ensemble is null && !ModelZoo.Models.ContainsKey(config.Model!))
                throw new InvalidDataException($"\"model\" is '{config.Model}', which this Loom does not have (models: {string.Join(", ", ModelZoo.Models.Keys)})");
            config.Validate();
            Tasks.Get(config.Task!).NormalizeOptions(config);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        return config;
    }

    /// <summary>
    /// Rebuilds a trained run from its config.json (an older one without a task is classification) and loads
    /// model.safetensors, or best.safetensors when <paramref name="best"/>. <paramref name="data"/> replaces the run's
    /// data with new data, read the way its training data was (see <see cref="ITask.Load"/>: all of it is test data, and
    /// it may lack labels); the run's own data, named again, keeps its test split. <paramref name="threads"/> replaces
    /// its thread count, which is set.
    /// </summary>
    public static TrainedRun Load(RunFolder folder, string? data = null, bool best = false, int? threads = null)
    {
        var saved = ReadConfig(folder);
        if (saved.Ensemble is not null)
        {
            if (best) throw new ArgumentException($"{folder.Path} is an ensemble: its members' final weights are its weights, and it has no best.safetensors; leave out --best");
            return Ensembles.Load(folder, saved, data, threads);
        }
        var task = Tasks.Get(saved.Task!);
        var weights = best ? folder.BestModelPath : folder.ModelPath;
        if (best && !File.Exists(weights))
            throw new FileNotFoundException($"{folder.Path} has no best.safetensors (the weights of the epoch with the lowest validation loss, saved at the end of each epoch that improved it); leave out --best to use the final model", weights);
        if (!File.Exists(weights))
            throw new FileNotFoundException(IsCrossValidation(folder) ? CrossValidationHasNoModel(folder)
                : $"{folder.Path} has no trained model (model.safetensors): the run stopped before it finished; continue it with loom train --resume {folder.Path}", weights);
        var notes = new List<string>();
        bool newData = data is not null && !SameData(data, saved.Data);
        if (data is not null && !newData) notes.Add($"--data {data} is the data the run was trained on: its test split is used");
        var config = saved with { Data = newData ? data! : saved.Data, Threads = threads ?? saved.Threads };
        ResolvedConfig resolved;
        if (newData)
        {
            // Checked here so that the message speaks of the run's model rather than of a --model the user never gave.
            if (task.Recognize(data!) is { } kind && !task.Models(kind).Contains(saved.Model!))
            {
                var fits = task.Kinds.Where(k => task.Models(k).Contains(saved.Model!)).Select(k => k.Description);
                throw new ArgumentException($"--data {data} is {kind.Description}, but the run's model ({saved.Model}) takes {string.Join(" or ", fits)}: give it data like its training data ({saved.Data})");
            }
            resolved = Tasks.Resolve(config);
        }
        else
        {
            try
            {
                resolved = Tasks.Resolve(config);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{folder.ConfigPath}: {e.Message}", e);
            }
        }
        Loom.Threads.Count = resolved.Config.Threads;
        var loaded = task.Load(resolved.Config, folder, newData);
        var model = CreateModel(task, resolved.Config, loaded);
        if (resolved.Config.Quantization is null)
        {
            // A run of `loom cluster` stores weight matrices as codebook + indices: looked up here into float weights.
            TrainedWeights.Fit(() =>
            {
                var tensors = SafeTensors.Load(weights).Tensors;
                model.LoadStateDict(Compress.WeightClustering.IsClustered(tensors) ? Compress.WeightClustering.Decode(tensors, model, weights) : tensors);
            }, weights, folder, resolved.Config.Model);
        }
        else
        {
            // A run of `loom quantize`: the zoo's float model, given the quantised layers, then the int8 weights.
            model = resolved.Config.Quantization == Compress.StaticQuantization.StaticInt8
                ? Compress.StaticQuantization.Prepare(model as Sequential
                    ?? throw new InvalidDataException($"{folder.ConfigPath}: quantization is {Compress.StaticQuantization.StaticInt8}, but the {resolved.Config.Model} is not a sequence of layers"))
                : Compress.Quantization.QuantizeDynamic(model).Model;
            TrainedWeights.Fit(() => Compress.Quantization.LoadStateDict(model, SafeTensors.Load(weights).Tensors, weights), weights, folder, resolved.Config.Model);
        }
        model.Eval();
        return new TrainedRun(resolved.Config, task, loaded, model) { Notes = [.. notes, .. loaded.Notes] };
    }

    // Resuming rewrites metrics.jsonl from its lines: a line damaged by hand (or by a full disk) is reported, not a crash.
    private static void CheckMetricsLines(RunFolder folder)
    {
        if (!File.Exists(folder.MetricsPath)) return;
        int number = 0;
        foreach (var line in File.ReadLines(folder.MetricsPath))
        {
            number++;
            if (line.Length == 0) continue;
            bool isObject;
            try
            {
                isObject = JsonNode.Parse(line) is JsonObject o && (o["kind"] is null || o["kind"] is JsonValue v && v.TryGetValue<string>(out _))
                    && (o["epoch"] is null || o["epoch"] is JsonValue e && e.TryGetValue<int>(out _));
            }
            catch (JsonException)
            {
                isObject = false;
            }
            if (!isObject) throw new InvalidDataException($"{folder.MetricsPath}: line {number} is not a line loom train writes (a JSON object with \"kind\"); mend or delete it to resume");
        }
    }

    // A cv folder has a config.json like a training run's, but only fold lines in its metrics and no model.
    private static bool IsCrossValidation(RunFolder folder) =>
        File.Exists(folder.MetricsPath) && File.ReadLines(folder.MetricsPath).Any(l => l.StartsWith("{\"kind\":\"fold\"", StringComparison.Ordinal));

    private static string CrossValidationHasNoModel(RunFolder folder) =>
        $"{folder.Path} is a cross-validation run (loom cv), which keeps no model: train one with loom train and the same options";

    // The run's own data named again: the same built-in name, or the same file or folder however it is written.
    private static bool SameData(string data, string runData)
    {
        if (BuiltinDatasets.Names.Contains(runData, StringComparer.OrdinalIgnoreCase)) return string.Equals(data, runData, StringComparison.OrdinalIgnoreCase);
        static string Full(string p) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p));
        return Full(data) == Full(runData);
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
        if (folds > data.Train.Count) throw new InvalidDataException($"--folds {folds}: the training split has {data.Train.Count} samples; give at most {data.Train.Count} folds");
        Loom.Threads.Count = resolved.Threads;
        return CrossValidation.Run(data.Train.Count, data.Strata, folds, resolved.SplitSeed ?? resolved.Seed, fold =>
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
        var model = task.CreateModel(config, data);
        if (config.PrunedUnits is { Count: > 0 } units)
        {
            if (model is not Sequential sequential)
                throw new InvalidDataException($"pruned_units is set, but the {config.Model} is not a sequence of layers that structured pruning can resize");
            Compress.StructuredPruning.Resize(sequential, units);
        }
        if (config.PrunedHeads is { Count: > 0 } heads) Compress.HeadPruning.Resize(model, heads);
        return model;
    }

    /// <summary>The config's optimiser over the model's parameters and <paramref name="alsoTrained"/>'s (a loss's own).</summary>
    public static Optimizer CreateOptimizer(TrainingConfig c, Module model, Module? alsoTrained = null)
    {
        var parameters = model.Parameters().Concat(alsoTrained?.Parameters() ?? []).ToList();
        // Weight decay applies to weights, not to biases and normalisation parameters.
        var decay = parameters.Where(p => p.Rank >= 2).ToList();
        var noDecay = parameters.Where(p => p.Rank < 2).ToList();
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

    private static int PerRankBatch(int batchSize, int ranks) =>
        batchSize % ranks == 0 ? batchSize / ranks
        : throw new ArgumentException($"--batch-size {batchSize} is the global batch and must divide evenly over the {ranks} ranks; give a multiple of {ranks}");

    /// <summary>A dataset's samples in order, in evaluation-sized batches.</summary>
    public static DataLoader<Sample> Batches(IDataset<Sample> data, int batchSize) => new(data, batchSize);

    /// <summary>
    /// The rows of <paramref name="data"/>'s training split that a classification run of <paramref name="config"/>
    /// trains on and the rows it validates on (indices into <see cref="TaskData.Train"/>, ascending): its
    /// `--val-fraction` held out by the split seed (none when the data has its own validation split), then with
    /// `--fold k/K` fold k of K stratified folds of the rest left out too. <see cref="Prepare"/> trains on exactly these
    /// rows, and an out-of-fold ensemble reproduces its members' from their configs this way.
    /// </summary>
    /// <exception cref="InvalidDataException">Data that is not a classification task's (whose hold-out is not by rows).</exception>
    public static (int[] Train, int[] Validation) TrainingRows(TrainingConfig config, TaskData data)
    {
        if (data is not ClassificationData)
            throw new InvalidDataException($"--fold and out-of-fold ensembles are for classification data; {data.Description} is not");
        ulong seed = config.SplitSeed ?? config.Seed;
        int[] train = Enumerable.Range(0, data.Train.Count).ToArray(), validation = [];
        if (data.Validation is null && config.ValidationFraction > 0) (train, validation) = data.HoldOutRows(config.ValidationFraction, seed);
        if (config.Fold is { } fold)
        {
            if (train.Length < fold.Count) throw new InvalidDataException($"--fold {fold}: {train.Length} training samples cannot make {fold.Count} folds");
            var labels = data.Strata!.ToArray<int>();
            var kept = new StratifiedKFold(fold.Count, seed).Split(train.Select(i => labels[i]).ToArray()).ElementAt(fold.Index - 1).Train;
            train = kept.Select(i => train[i]).ToArray();
        }
        return (train, validation);
    }

    // In-memory rows are copied (contiguous batches later); other datasets are indexed through.
    internal static IDataset<Sample> Rows(IDataset<Sample> data, int[] indices) =>
        data is TensorDataset rows ? rows.Gather(indices) : new Subset<Sample>(data, indices);
}

/// <summary>What a finished (or interrupted: no test evaluation) run produced.</summary>
public sealed record RunResult(FitResult Fit, TaskEvaluation? Test, RunFolder Folder);

/// <summary>A trained run loaded for evaluation or prediction (<see cref="Pipeline.Load"/>): no optimiser, the model in eval mode.</summary>
public sealed record TrainedRun(TrainingConfig Config, ITask Task, TaskData Data, Module<Tensor, Tensor> Model)
{
    /// <summary>What the user should know about how the data was read (the run's own data named again, columns matched by name…), one line each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The task's loss (without training penalties) and metrics over this model.</summary>
    public Evaluator Evaluator => new(Model, Task.Loss(Data), Task.Metrics(Data));

    /// <summary>Loss, metrics and the task's report on the test split, which must have targets.</summary>
    public TaskEvaluation Evaluate()
    {
        if (Data.Unlabelled is { } why) throw new InvalidDataException($"{why}: evaluating needs the labels; loom predict predicts without them");
        return Task.Evaluate(Evaluator, Data, Pipeline.Batches(Data.Test, Data.EvaluationBatchSize));
    }

    /// <summary>One row per test sample (see <see cref="ITask.Predict"/>).</summary>
    public ResultTable Predict() => Task.Predict(Evaluator, Data, Pipeline.Batches(Data.Test, Data.EvaluationBatchSize));
}
