using System.Text.Json.Nodes;
using Loom.Data;
using Loom.Nn;
using Loom.Nn.Serialization;
using Loom.Random;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// Train, evaluate, predict and cross-validate a classifier from a <see cref="TrainingConfig"/>: the pipeline behind
/// `loom train`, `loom eval`, `loom predict` and `loom cv`. It composes the <see cref="Trainer"/>; everything it
/// writes goes to a <see cref="RunFolder"/>.
/// </summary>
public static class ClassificationPipeline
{
    /// <summary>Metrics computed for classifiers, per epoch and on the test set.</summary>
    public static IReadOnlyList<Func<IMetric>> Metrics(int classes) =>
    [
        () => new Accuracy(),
        () => new PrecisionRecallF1(classes, ClassificationScore.F1, Averaging.Macro),
    ];

    /// <summary>The model, initialised from the config's seed.</summary>
    public static Module<Tensor, Tensor> CreateModel(TrainingConfig config, ClassificationData data)
    {
        Generator.ManualSeed(config.Seed);
        return ModelZoo.Create(config.Model, data.InputShape, data.ClassNames.Count, config.Hidden, config.Dropout);
    }

    public static Optimizer CreateOptimizer(TrainingConfig c, Module model)
    {
        // Weight decay applies to weights, not to biases and normalisation parameters.
        var decay = model.NamedParameters().Where(p => p.Parameter.Rank >= 2).Select(p => p.Parameter).ToList();
        var noDecay = model.NamedParameters().Where(p => p.Parameter.Rank < 2).Select(p => p.Parameter).ToList();
        var groups = new List<ParamGroup> { new(decay) };
        if (noDecay.Count > 0) groups.Add(new ParamGroup(noDecay, weightDecay: 0));
        return c.Optimizer switch
        {
            "sgd" => new Sgd(groups, c.LearningRate, momentum: c.Momentum, weightDecay: c.WeightDecay, nesterov: c.Momentum > 0),
            "adam" => new Adam(groups, c.LearningRate, weightDecay: c.WeightDecay),
            "adamw" => new AdamW(groups, c.LearningRate, weightDecay: c.WeightDecay),
            "rmsprop" => new RmsProp(groups, c.LearningRate, weightDecay: c.WeightDecay, momentum: c.Momentum),
            "adagrad" => new Adagrad(groups, c.LearningRate, weightDecay: c.WeightDecay),
            _ => throw new ArgumentException($"unknown optimizer '{c.Optimizer}'"),
        };
    }

    /// <summary>The LR schedule; per-step schedules report <c>perStep</c>.</summary>
    public static (LRScheduler? Scheduler, bool PerStep) CreateScheduler(TrainingConfig c, Optimizer optimizer, int stepsPerEpoch) => c.Schedule switch
    {
        "none" or "plateau" => (null, false),
        "step" => (new StepLR(optimizer, Math.Max(1, c.Epochs / 3), 0.3), false),
        "cosine" => (new CosineAnnealingLR(optimizer, c.Epochs * stepsPerEpoch), true),
        "warmup-cosine" => (new WarmupCosineLR(optimizer, Math.Max(1, stepsPerEpoch / 2), c.Epochs * stepsPerEpoch + 1), true),
        "onecycle" => (new OneCycleLR(optimizer, c.LearningRate, c.Epochs * stepsPerEpoch + 1), true),
        _ => throw new ArgumentException($"unknown schedule '{c.Schedule}'"),
    };

    /// <summary>Cross-entropy plus the config's L1/L2 penalties on weights (not biases or normalisation parameters).</summary>
    public static Func<Tensor, Tensor, Tensor> CreateLoss(TrainingConfig c, Module model)
    {
        var weights = Regularization.WeightsOnly(model).ToList();
        return (output, target) =>
        {
            var loss = Functional.CrossEntropy(output, target);
            if (c.L1 > 0) loss = loss.Add(Regularization.L1(weights, c.L1));
            if (c.L2 > 0) loss = loss.Add(Regularization.L2(weights, c.L2));
            return loss;
        };
    }

    /// <summary>Everything a run trains with.</summary>
    public sealed record Setup(TrainingConfig Config, ClassificationData Data, Module<Tensor, Tensor> Model, Trainer Trainer,
        DataLoader<Sample> TrainLoader, DataLoader<Sample>? ValidationLoader, DataLoader<Sample> TestLoader);

    /// <summary>Builds data, model, optimiser, schedule, loss and trainer; with <paramref name="folder"/>, adds logging and checkpoints there.</summary>
    public static Setup Prepare(TrainingConfig config, RunFolder? folder, IEnumerable<ICallback>? extraCallbacks = null, ClassificationData? data = null)
    {
        config.Validate();
        Loom.Threads.Count = config.Threads;
        data ??= ClassificationData.Load(config);
        var train = data.Train;
        TensorDataset? validation = null;
        if (config.ValidationFraction > 0)
        {
            var split = Split.Stratified(train.Targets, config.ValidationFraction, seed: config.Seed);
            validation = train.Gather(split.Validation);
            train = train.Gather(split.Train);
        }
        var model = CreateModel(config, data);
        var optimizer = CreateOptimizer(config, model);
        var trainLoader = new DataLoader<Sample>(train, config.BatchSize, shuffle: true, seed: config.Seed);
        var (scheduler, perStep) = CreateScheduler(config, optimizer, trainLoader.Count);
        var callbacks = new List<ICallback>();
        if (folder is not null) callbacks.Add(new RunLogger(folder));
        if (config.Patience > 0) callbacks.Add(new EarlyStopping(validation is null ? "loss" : "val_loss", config.Patience));
        if (config.Schedule == "plateau") callbacks.Add(new PlateauCallback(new ReduceLROnPlateau(optimizer, patience: 1, factor: 0.3), validation is null ? "loss" : "val_loss"));
        callbacks.AddRange(extraCallbacks ?? []);
        // Last, so that the epoch's checkpoint holds what the other callbacks changed at its end (patience counters, a
        // reduced learning rate); saved before them, a resumed run would miss that epoch's updates.
        if (folder is not null) callbacks.Add(new ModelCheckpoint(folder.Path, validation is null ? "loss" : "val_loss"));
        var options = new TrainerOptions
        {
            Epochs = config.Epochs,
            Seed = config.Seed,
            SchedulerStepPerBatch = perStep,
            ClipGradNorm = config.ClipGradNorm,
            MaxSteps = config.MaxSteps,
        };
        var trainer = new Trainer(model, optimizer, CreateLoss(config, model), options, Metrics(data.ClassNames.Count), callbacks, scheduler);
        return new Setup(config, data, model, trainer, trainLoader,
            validation is null ? null : new DataLoader<Sample>(validation, 256),
            new DataLoader<Sample>(data.Test, 256));
    }

    /// <summary>
    /// Trains (resuming from the folder's last checkpoint when <paramref name="resume"/>), then evaluates on the test
    /// split and writes model, report, curves and confusion matrix into the folder.
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
        setup.Data.Standardizer?.Save(folder.File("standardize.json"));
        var fit = setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        SafeTensors.Save(folder.ModelPath, setup.Model.StateDict());
        // Interrupted mid-epoch (Ctrl-C): the checkpoint is written, the report waits for the resumed run. --max-steps
        // ends the run on purpose, mid-epoch or not, so it gets its report.
        bool reachedMaxSteps = setup.Config.MaxSteps is long max && setup.Trainer.GlobalStep >= max;
        if (setup.Trainer.BatchInEpoch > 0 && !reachedMaxSteps) return new RunResult(fit, null, null, folder);
        var (test, confusion) = Evaluate(setup.Trainer, setup.TestLoader, setup.Data.ClassNames.Count);
        var line = new JsonObject { ["kind"] = "test", ["loss"] = test.Loss, ["samples"] = test.Samples };
        foreach (var (k, v) in test.Metrics) line[k] = v;
        folder.AppendMetrics(line);
        if (setup.Trainer.History.Count > 0) Plots.Curves(setup.Trainer.History, folder.CurvesPath);
        var classNames = setup.Data.ClassNames.Count <= 20 ? setup.Data.ClassNames : null;
        Plots.Confusion(confusion.Counts, folder.ConfusionPath, classNames);
        Plots.Confusion(confusion.Counts, folder.NormalizedConfusionPath, classNames, normalize: true);
        File.WriteAllText(folder.ReportPath, Report.Markdown(setup, fit, test, confusion));
        return new RunResult(fit, test, confusion, folder);
    }

    /// <summary>
    /// A trainer for evaluating and predicting with a trained model (`loom eval`, `loom predict`): cross-entropy and
    /// the classification metrics. It never steps, so its optimiser is a placeholder with learning rate 0.
    /// </summary>
    public static Trainer Inference(Module<Tensor, Tensor> model, int classes) =>
        new(model, new Sgd(model.Parameters(), 0), (o, t) => Functional.CrossEntropy(o, t), metrics: Metrics(classes));

    /// <summary>Test loss and metrics plus the confusion matrix.</summary>
    public static (EvaluationResult Result, ConfusionMatrix Confusion) Evaluate(Trainer trainer, IEnumerable<Batch> data, int classes)
    {
        var confusion = new ConfusionMatrix(classes);
        return (trainer.Evaluate(data, confusion), confusion);
    }

    /// <summary>Rebuilds the run's model from config.json and loads model.safetensors (or best.safetensors when asked).</summary>
    public static (TrainingConfig Config, ClassificationData Data, Module<Tensor, Tensor> Model) Load(RunFolder folder, string? dataOverride = null, bool best = false)
    {
        var config = TrainingConfig.FromJson(File.ReadAllText(folder.ConfigPath), folder.ConfigPath);
        if (dataOverride is not null) config = config with { Data = dataOverride };
        // Tabular runs saved the standardisation fitted on their training rows: new data must be scaled the same way.
        var standardizePath = folder.File("standardize.json");
        var data = ClassificationData.Load(config, File.Exists(standardizePath) ? Standardize.Load(standardizePath) : null);
        var model = CreateModel(config, data);
        var weights = best && File.Exists(folder.BestModelPath) ? folder.BestModelPath : folder.ModelPath;
        if (!File.Exists(weights)) throw new FileNotFoundException($"{folder.Path} has no trained model ({Path.GetFileName(weights)})", weights);
        model.LoadStateDict(SafeTensors.Load(weights).Tensors);
        model.Eval();
        return (config, data, model);
    }
}

/// <summary>What a finished (or interrupted) run produced.</summary>
public sealed record RunResult(FitResult Fit, EvaluationResult? Test, ConfusionMatrix? Confusion, RunFolder Folder);
