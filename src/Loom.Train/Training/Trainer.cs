using System.Diagnostics;
using Loom.Memory;
using Loom.Nn;
using Loom.Random;

namespace Loom.Train;

/// <summary>
/// Owns the training loop (PyTorch Lightning's Trainer, Burn's Learner): for each batch, forward, loss, backward
/// (scaled for gradient accumulation), clipping, optimiser step, LR schedule; per epoch, training metrics,
/// validation, callbacks. Each step runs in a <see cref="MemoryScope"/>, so activations return to the buffer pool.
/// Seeded and resumable: <see cref="SaveCheckpoint(string)"/> captures model, optimiser, scheduler, RNG, data order and
/// counters, and a run resumed with <see cref="LoadCheckpoint"/> ends with the same weights as an uninterrupted one.
/// </summary>
public sealed partial class Trainer
{
    private readonly Func<Tensor, Tensor, Tensor> _loss;
    private readonly IReadOnlyList<Func<IMetric>> _metricFactories;
    private readonly List<EpochSummary> _history = [];
    private volatile bool _stopRequested;
    private volatile bool _interrupted;
    private string _stopReason = "completed";
    private DataLoaderState? _pendingLoaderState;
    private double _epochLossSum;
    private long _epochSamples;
    private int _accumulated;

    /// <param name="model">The network; its forward maps a batch of inputs to outputs.</param>
    /// <param name="optimizer">Updates the model's parameters.</param>
    /// <param name="loss">(outputs, targets) → scalar loss, e.g. <c>new CrossEntropyLoss().Forward</c>.</param>
    /// <param name="options">Epochs, accumulation, clipping, seed…</param>
    /// <param name="metrics">Factories of the metrics to compute (new instances for training and validation).</param>
    /// <param name="callbacks">Early stopping, checkpoints, progress, logging.</param>
    /// <param name="scheduler">Learning-rate schedule, stepped per epoch or per step (see <see cref="TrainerOptions.SchedulerStepPerBatch"/>).</param>
    public Trainer(Module<Tensor, Tensor> model, Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss, TrainerOptions? options = null,
        IEnumerable<Func<IMetric>>? metrics = null, IEnumerable<ICallback>? callbacks = null, LRScheduler? scheduler = null)
    {
        Model = model;
        Optimizer = optimizer;
        _loss = loss;
        Options = options ?? new TrainerOptions();
        Options.Validate();
        _metricFactories = metrics?.ToList() ?? [];
        Callbacks = callbacks?.ToList() ?? [];
        Scheduler = scheduler;
        Evaluator = new Evaluator(model, loss, _metricFactories);
    }

    public Module<Tensor, Tensor> Model { get; }

    public Optimizer Optimizer { get; }

    /// <summary>Validation and evaluation: the model with the training loss and metrics, in eval mode.</summary>
    public Evaluator Evaluator { get; }

    public LRScheduler? Scheduler { get; }

    public TrainerOptions Options { get; }

    public List<ICallback> Callbacks { get; }

    /// <summary>The epoch being trained (or the next one to train).</summary>
    public int Epoch { get; private set; }

    /// <summary>Optimiser steps taken.</summary>
    public long GlobalStep { get; private set; }

    /// <summary>Batches consumed in the current epoch.</summary>
    public int BatchInEpoch { get; private set; }

    /// <summary>Summaries of the finished epochs.</summary>
    public IReadOnlyList<EpochSummary> History => _history;

    /// <summary>Asks the loop to stop after the current batch and end the run (early stopping, a step limit); thread-safe.</summary>
    public void RequestStop(string reason)
    {
        _stopReason = reason;
        _stopRequested = true;
    }

    /// <summary>
    /// Asks the loop to stop after the current batch and leave the run unfinished, to be resumed from its checkpoint
    /// (Ctrl-C, SIGTERM); thread-safe. Unlike <see cref="RequestStop"/>, the run is not over even when the stop falls
    /// on an epoch's end: <see cref="FitResult.Interrupted"/> says so.
    /// </summary>
    public void Interrupt(string reason)
    {
        _interrupted = true;
        RequestStop(reason);
    }

    public bool StopRequested => _stopRequested;

    /// <summary>
    /// Data parallelism this trainer takes part in, if any: gradients are averaged over ranks before each optimiser
    /// step (not on accumulation micro-steps), the epoch's loss and metrics are reduced over ranks, and buffers come
    /// from rank 0 before validation, so every rank sees the same figures and takes the same decisions.
    /// </summary>
    public IDataParallel? DataParallel { get; set; }

    /// <summary>Trains for <see cref="TrainerOptions.Epochs"/> epochs (or until stopped), validating after each epoch when <paramref name="validation"/> is given.</summary>
    public FitResult Fit<T>(DataLoader<T> train, IEnumerable<Batch>? validation = null)
    {
        if (_pendingLoaderState is { } state)
        {
            train.SetState(state);
            _pendingLoaderState = null;
        }
        else if (GlobalStep == 0 && Epoch == 0)
        {
            Generator.ManualSeed(Options.Seed);
        }
        _stopRequested = false;
        _interrupted = false;
        _stopReason = "completed";
        (int startEpoch, int startBatch, long startStep, long batches) = (Epoch, BatchInEpoch, GlobalStep, 0);
        var unfinished = TimeSpan.Zero;
        foreach (var c in Callbacks) c.OnFitStart(this);
        var trainMetrics = _metricFactories.Select(f => f()).ToList();
        StepProfile.Begin(train.Prefetch);
        while (Epoch < Options.Epochs && !_stopRequested)
        {
            var clock = Stopwatch.StartNew();
            foreach (var m in trainMetrics) m.Reset();
            if (BatchInEpoch == 0) (_epochLossSum, _epochSamples) = (0, 0);
            foreach (var c in Callbacks) c.OnEpochStart(this, Epoch, train.Count);
            Model.Train();
            StepProfile.Mark();
            foreach (var batch in train)
            {
                StepProfile.End(StepProfile.Phase.Fetch);
                double loss = TrainBatch(batch, trainMetrics, recycleBatch: train.BatchesAreCopies);
                BatchInEpoch++;
                batches++;
                NoteLoaderState(train.GetState());
                var info = new StepInfo(Epoch, BatchInEpoch - 1, train.Count, GlobalStep, loss, Optimizer.LearningRate, batch.Size);
                foreach (var c in Callbacks) c.OnBatchEnd(this, info);
                if (Options.MaxSteps is long max && GlobalStep >= max) RequestStop($"reached {max} steps");
                StepProfile.End(StepProfile.Phase.Callbacks);
                if (_stopRequested) break;
            }
            StepProfile.Mark();
            if (_stopRequested && BatchInEpoch < train.Count)
            {
                unfinished = clock.Elapsed; // interrupted mid-epoch: no epoch summary to hold its time
                break;
            }
            FlushAccumulatedGradients();
            var (lossSum, samples) = (_epochLossSum, (double)_epochSamples);
            if (DataParallel is { } dp)
            {
                Span<double> totals = [lossSum, samples];
                dp.SumAcrossRanks(totals);
                (lossSum, samples) = (totals[0], totals[1]);
                foreach (var m in trainMetrics) (m as IReducibleMetric)?.Reduce(dp.SumAcrossRanks);
                dp.BroadcastBuffers();
            }
            var values = new Dictionary<string, double> { ["loss"] = samples == 0 ? double.NaN : lossSum / samples };
            foreach (var m in trainMetrics) values[m.Name] = m.Compute();
            if (validation is not null)
            {
                var eval = DataParallel is { } ranks ? Evaluator.EvaluateAcrossRanks(validation, ranks) : Evaluate(validation);
                values["val_loss"] = eval.Loss;
                foreach (var (k, v) in eval.Metrics) values["val_" + k] = v;
            }
            values["lr"] = Optimizer.LearningRate;
            if (Scheduler is not null && !Options.SchedulerStepPerBatch) Scheduler.Step();
            var summary = new EpochSummary(Epoch, GlobalStep, values, clock.Elapsed);
            StepProfile.End(StepProfile.Phase.EpochEnd);
            _history.Add(summary);
            Epoch++;
            BatchInEpoch = 0;
            NoteLoaderState(train.GetState());
            foreach (var c in Callbacks) c.OnEpochEnd(this, summary);
            StepProfile.End(StepProfile.Phase.EpochCallbacks);
        }
        StepProfile.Report();
        var result = new FitResult(_history.ToList(), GlobalStep, _stopReason)
        {
            StartEpoch = startEpoch, StartBatch = startBatch, StartStep = startStep, Batches = batches, Interrupted = _interrupted,
            UnfinishedEpochTime = unfinished,
        };
        foreach (var c in Callbacks) c.OnFitEnd(this, result);
        return result;
    }

    private double TrainBatch(Batch batch, List<IMetric> metrics, bool recycleBatch)
    {
        double value;
        using (new MemoryScope())
        {
            if (recycleBatch)
            {
                // The loader's worker rented the batch from the pool on its own thread; given back with the step's
                // activations, it serves a later batch instead of every step allocating one anew.
                MemoryScope.Adopt(batch.Inputs);
                MemoryScope.Adopt(batch.Targets);
            }
            var output = Model.Forward(batch.Inputs);
            StepProfile.End(StepProfile.Phase.Forward);
            var loss = _loss(output, batch.Targets);
            if (loss.Numel != 1)
                throw new InvalidOperationException($"the loss function returned a tensor of shape {loss.Shape}; it must return a scalar (use a mean or sum reduction)");
            value = loss.Item();
            if (Options.StopOnNonFiniteLoss && !double.IsFinite(value))
                throw new TrainingDivergedException($"the loss became {value} at epoch {Epoch + 1}, batch {BatchInEpoch + 1} (global step {GlobalStep}); lower the learning rate, clip gradients, or check the data for NaN/Inf");
            int accumulation = Options.GradientAccumulationSteps;
            if (DataParallel is { } dp) dp.RequireGradientSync = _accumulated + 1 == accumulation;
            StepProfile.End(StepProfile.Phase.Loss);
            loss.Backward(accumulation == 1 ? null : Tensor.Full(loss.Shape, 1.0 / accumulation, loss.DType));
            StepProfile.End(StepProfile.Phase.Backward);
            if (metrics.Count > 0)
            {
                var detached = output.Detach();
                foreach (var m in metrics) m.Update(detached, batch.Targets);
            }
            StepProfile.End(StepProfile.Phase.Metrics);
            if (++_accumulated == accumulation) OptimizerStep();
            StepProfile.End(StepProfile.Phase.Optimizer);
        }
        _epochLossSum += value * batch.Size;
        _epochSamples += batch.Size;
        return value;
    }

    private void OptimizerStep()
    {
        if (DataParallel is { } dp)
        {
            // After a flush of a partial accumulation the last backward ran unsynchronised: this reduces it all now.
            dp.RequireGradientSync = true;
            dp.SynchronizeGradients();
            StepProfile.End(StepProfile.Phase.Sync);
        }
        if (Options.ClipGradValue is double clip) GradientClipping.ClipGradValue(Optimizer.Parameters, clip);
        if (Options.ClipGradNorm is double maxNorm) GradientClipping.ClipGradNorm(Optimizer.Parameters, maxNorm);
        Optimizer.Step();
        Optimizer.ZeroGrad(setToNone: false);
        _accumulated = 0;
        GlobalStep++;
        if (Scheduler is not null && Options.SchedulerStepPerBatch) Scheduler.Step();
    }

    // An epoch whose batch count is not a multiple of the accumulation steps still applies its last gradients.
    private void FlushAccumulatedGradients()
    {
        if (_accumulated > 0) OptimizerStep();
    }

    /// <summary>Average loss and metrics over <paramref name="data"/> with the training loss; see <see cref="Evaluator.Evaluate"/>.</summary>
    public EvaluationResult Evaluate(IEnumerable<Batch> data, params IMetric[] extraMetrics) => Evaluator.Evaluate(data, extraMetrics);

    /// <summary>The model's outputs for every batch; see <see cref="Evaluator.Predict"/>.</summary>
    public Tensor Predict(IEnumerable<Batch> data) => Evaluator.Predict(data);
}
