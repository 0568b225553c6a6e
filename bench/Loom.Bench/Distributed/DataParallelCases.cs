using System.Diagnostics;
using System.Text.Json.Nodes;
using Loom.Data;
using Loom.Distributed;
using Loom.Memory;
using Loom.Models;
using Loom.Nn;
using Loom.Random;
using Loom.Train;

namespace Loom.Bench.Distributed;

/// <summary>
/// The cases a rank of a benchmark job can run (<see cref="RankServer"/>), each built the same way on every rank.
/// <list type="bullet">
/// <item><c>allreduce</c> (<c>{"bytes": n}</c>): one step is <see cref="DistributedDataParallel.SynchronizeGradients"/>
/// after a backward (untimed) has filled one bucket of n bytes, which is what a training step pays for the gradient
/// all-reduce of its last bucket: the bucket waits for a parameter backward does not reach, so its all-reduce starts in
/// SynchronizeGradients rather than in the untimed backward. Backward divides each gradient by the number of ranks
/// as it becomes ready (see GradientBucket), so that pass is in the backward, not here.</item>
/// <item><c>iallreduce</c> (<c>{"bytes": n}</c>): the collective alone, <see cref="Communicator.AllReduce{T}(Span{T}, ReduceOp)"/>
/// (the library's blocking MPI_Allreduce, in place, under Loom's timeout watchdog).</item>
/// <item><c>trainstep/gpt</c> and <c>cnn/fashion-mnist</c> (<c>{"global_batch": b}</c> or <c>{"per_rank_batch": b}</c>,
/// optionally <c>"independent": true</c>): a training step (forward, cross-entropy, backward, gradient all-reduce,
/// Adam step) on b / ranks samples per rank (strong scaling: every job configuration trains on the same global batch)
/// or on b per rank (weak scaling). With one rank there is no DistributedDataParallel at all, as a user without
/// `--distributed` runs. Independent ranks train each its own replica with no gradient sync, a barrier (untimed)
/// before each step keeping them in step: what the ranks' computation alone costs when they run at once. Each step's
/// time is also split into forward (with the loss), backward, gradient synchronisation and optimiser (with zeroing
/// the gradients), reported per configuration.</item>
/// <item><c>trainer/cnn/fashion-mnist</c> (<c>{"per_rank_batch": b, "steps": k}</c>): k steps of the real training loop
/// of `loom train --data fashion-mnist --model cnn` (<see cref="Pipeline.Prepare"/>: the CLI's model, optimiser, loss,
/// metrics, DataLoader with its prefetch worker, and with several ranks its DistributedSampler and
/// DistributedDataParallel) over the real training set, continuing the epoch from one block to the next; no
/// validation, no run folder, no progress line.</item>
/// </list>
/// </summary>
internal static class DataParallelCases
{
    public static BenchStep Create(string name, JsonObject parameters, Communicator world) => name switch
    {
        "allreduce" => AllReduce(parameters["bytes"]?.GetValue<long>() ?? 4 << 20, world),
        "iallreduce" => new BenchStep(Collective(parameters["bytes"]?.GetValue<long>() ?? 4 << 20, world)),
        "trainstep/gpt" => GptStep(Batch(parameters, 8, world), world, Independent(parameters)),
        "cnn/fashion-mnist" => CnnStep(Batch(parameters, 64, world), world, Independent(parameters)),
        "trainer/cnn/fashion-mnist" => TrainerLoop(Batch(parameters, 64, world), parameters["steps"]?.GetValue<int>() ?? 100, world),
        _ => throw new CaseUnavailableException($"unknown case '{name}' (this job has: allreduce, iallreduce, trainstep/gpt, cnn/fashion-mnist, trainer/cnn/fashion-mnist)"),
    };

    private static bool Independent(JsonObject parameters) => parameters["independent"]?.GetValue<bool>() ?? false;

    private static int Batch(JsonObject parameters, int defaultGlobal, Communicator world)
    {
        if (parameters["per_rank_batch"]?.GetValue<int>() is { } perRank) return perRank;
        int global = parameters["global_batch"]?.GetValue<int>() ?? defaultGlobal;
        if (global % world.Size != 0)
            throw new CaseUnavailableException($"the global batch {global} does not divide among {world.Size} ranks");
        return global / world.Size;
    }

    private static BenchStep AllReduce(long bytes, Communicator world)
    {
        int floats = (int)Math.Max(1, bytes / sizeof(float));
        var holder = new GradientHolder(floats);
        var ddp = new DistributedDataParallel(holder, world, bucketCapBytes: (int)Math.Min(int.MaxValue, bytes));
        holder.Weight.Grad = Tensor.Full(new Shape(floats), world.Rank + 1.0);
        ddp.SynchronizeGradients();
        // The average of 1..N, exactly representable: a wrong sum or a missing division shows here.
        double expected = (world.Size + 1) / 2.0;
        var grad = holder.Weight.Grad!.AsReadOnlySpan<float>();
        if (grad[0] != expected || grad[^1] != expected)
            throw new InvalidOperationException($"allreduce: DistributedDataParallel averaged to {grad[0]}, expected {expected}");
        // The step's backward: d(Σ w·(rank+1))/dw = rank+1 on every element, accumulated into the zeroed bucket view.
        var weights = Tensor.Full(new Shape(floats), world.Rank + 1.0);
        void Backward()
        {
            using var scope = new MemoryScope();
            holder.Weight.Grad!.AsSpan<float>().Clear();
            (holder.Weight * weights).Sum().Backward();
            // Both ranks then enter the timed all-reduce together, as consecutive MPI_Allreduce calls do: otherwise
            // rank 0's time would include waiting for rank 1's backward.
            world.Barrier();
        }
        Backward();
        ddp.SynchronizeGradients();
        if (grad[0] != expected || grad[^1] != expected)
            throw new InvalidOperationException($"allreduce: after a backward DistributedDataParallel averaged to {grad[0]}, expected {expected}");
        return new BenchStep(ddp.SynchronizeGradients, Backward);
    }

    private static Action Collective(long bytes, Communicator world)
    {
        var buffer = new float[Math.Max(1, bytes / sizeof(float))];
        Array.Fill(buffer, world.Rank + 1);
        world.AllReduce<float>(buffer);
        float expected = world.Size * (world.Size + 1) / 2f;
        if (buffer[0] != expected || buffer[^1] != expected)
            throw new InvalidOperationException($"iallreduce: the sum was {buffer[0]}, expected {expected}");
        return () => world.AllReduce<float>(buffer);
    }

    private sealed class GradientHolder : Module
    {
        public GradientHolder(int floats)
        {
            Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(floats)))!;
            // Registered after the weight, so first in bucket order and in the same bucket: backward never reaches
            // it, which holds the bucket back until SynchronizeGradients.
            RegisterParameter("anchor", new Parameter(Tensor.Zeros(1)));
        }

        public Parameter Weight { get; }
    }

    // TrainStepBench's GPT case (4 layers, d 256, T 128, vocab 4096), its batch of 8 shared out among the ranks.
    private static BenchStep GptStep(int batch, Communicator world, bool independent)
    {
        var config = new GptConfig(GeluTanh: false);
        var g = new Generator(0);
        int global = batch * world.Size;
        var inputs = Tensor.Randint(0, config.Vocab, new Shape(global, config.Context), g).Narrow(0, world.Rank * batch, batch).Contiguous();
        var targets = Tensor.Randint(0, config.Vocab, new Shape(global, config.Context), g).Narrow(0, world.Rank * batch, batch).Contiguous();
        Generator.ManualSeed(1);
        return TrainingStep(new Gpt(config), 1e-3, world, independent, _ => (inputs, targets), sequence: true);
    }

    // The CLI's `--model cnn` on Fashion-MNIST with its task defaults (batch 64, Adam 2e-3), through the training set
    // batch after batch; each rank takes its share of the global batch.
    private static BenchStep CnnStep(int batch, Communicator world, bool independent)
    {
        if (!FashionMnist.IsAvailable())
            throw new CaseUnavailableException($"Fashion-MNIST is not installed in {FashionMnist.DefaultFolder} (apt-get install dataset-fashion-mnist)");
        var train = FashionMnist.Load().Train;
        int global = batch * world.Size, batches = train.Count / global;
        Generator.ManualSeed(1);
        var model = ModelZoo.SmallCnn((1, 28, 28), FashionMnist.ClassNames.Count);
        return TrainingStep(model, 2e-3, world, independent, k =>
        {
            int start = (k % batches) * global + world.Rank * batch;
            return (train.Inputs.Narrow(0, start, batch), train.Targets.Narrow(0, start, batch));
        }, sequence: false);
    }

    // `loom train --data fashion-mnist --model cnn --threads T` (with --distributed on several ranks), as the CLI builds
    // it, run in blocks of `steps` batches: Fit stops after a block mid-epoch and the next block goes on from there.
    private static BenchStep TrainerLoop(int batch, int steps, Communicator world)
    {
        if (!FashionMnist.IsAvailable())
            throw new CaseUnavailableException($"Fashion-MNIST is not installed in {FashionMnist.DefaultFolder} (apt-get install dataset-fashion-mnist)");
        var config = new TrainingConfig
        {
            Data = "fashion-mnist", Model = "cnn", BatchSize = batch * world.Size, Threads = Loom.Threads.Count, Epochs = 1_000_000,
        };
        var block = new BlockOfSteps(steps);
        var setup = Pipeline.Prepare(config, folder: null, extraCallbacks: [block], world: world.Size > 1 ? world : null);
        block.Loader = setup.TrainLoader;
        if (BucketCap is int cap && setup.Trainer.DataParallel is DistributedDataParallel ddp)
        {
            ddp.Dispose();
            setup.Trainer.DataParallel = new DistributedDataParallel(setup.Model, world, cap);
        }
        var trainer = setup.Trainer;
        int perEpoch = setup.TrainLoader.Count;
        return new BenchStep(() =>
        {
            long position = trainer.Epoch * (long)perEpoch + trainer.BatchInEpoch;
            var fit = trainer.Fit(setup.TrainLoader);
            // Each block goes on where the last one stopped, through the epoch's end into the next epoch.
            if (fit.Batches != steps || trainer.Epoch * (long)perEpoch + trainer.BatchInEpoch != position + steps)
                throw new InvalidOperationException($"trainer loop: a block ran {fit.Batches} batches from batch {position}, not {steps}; now at epoch {trainer.Epoch}, batch {trainer.BatchInEpoch}");
            // Stopped mid-epoch, the loader has moved on to the next epoch: the next block continues this one.
            if (trainer.BatchInEpoch > 0) setup.TrainLoader.SetState(block.LoaderState!.Value);
        });
    }

    /// <summary>Stops the fit after a fixed number of batches, noting where the loader was.</summary>
    private sealed class BlockOfSteps(int steps) : ICallback
    {
        private int _done;

        public DataLoader<Sample>? Loader { get; set; }

        public DataLoaderState? LoaderState { get; private set; }

        public void OnFitStart(Trainer trainer) => _done = 0;

        public void OnBatchEnd(Trainer trainer, StepInfo step)
        {
            if (++_done < steps) return;
            LoaderState = Loader!.GetState();
            trainer.RequestStop($"a block of {steps} steps");
        }
    }

    // LOOM_BENCH_BUCKET_CAP (bytes) replaces DDP's default bucket rule, to compare bucket sizes on one build.
    private static int? BucketCap => int.TryParse(Environment.GetEnvironmentVariable("LOOM_BENCH_BUCKET_CAP"), out int cap) ? cap : null;

    private static BenchStep TrainingStep(Module<Tensor, Tensor> model, double learningRate, Communicator world, bool independent,
        Func<int, (Tensor Inputs, Tensor Targets)> batchAt, bool sequence)
    {
        var ddp = world.Size > 1 && !independent ? new DistributedDataParallel(model, world, BucketCap) : null;
        var optimizer = new Adam(model.Parameters(), learningRate);
        model.Train();
        int k = 0;
        var phases = new StepPhases("forward", "backward", "gradient_sync", "optimizer");
        return new BenchStep(() =>
        {
            using var scope = new MemoryScope();
            var (x, y) = batchAt(k++);
            long t0 = Stopwatch.GetTimestamp();
            var output = model.Forward(x);
            var loss = sequence
                ? Functional.CrossEntropy(output.Reshape(-1, output.Shape[^1]), y.Reshape(-1))
                : Functional.CrossEntropy(output, y);
            long t1 = Stopwatch.GetTimestamp();
            loss.Backward();
            long t2 = Stopwatch.GetTimestamp();
            ddp?.SynchronizeGradients();
            long t3 = Stopwatch.GetTimestamp();
            optimizer.Step();
            optimizer.ZeroGrad(setToNone: false);
            phases.Add(t0, t1, t2, t3, Stopwatch.GetTimestamp());
        }, Prepare: independent && world.Size > 1 ? world.Barrier : null, Phases: phases);
    }
}

/// <summary>One step of a case; <paramref name="Prepare"/> runs before each step, untimed.</summary>
internal sealed record BenchStep(Action Run, Action? Prepare = null, StepPhases? Phases = null);

/// <summary>Seconds a step spends in each of its phases, summed until <see cref="TakeMeans"/>.</summary>
internal sealed class StepPhases(params string[] names)
{
    private readonly double[] _seconds = new double[names.Length];
    private int _steps;

    /// <summary>Phase i ran from timestamp i to timestamp i + 1.</summary>
    public void Add(params long[] timestamps)
    {
        for (int i = 0; i < _seconds.Length; i++) _seconds[i] += Stopwatch.GetElapsedTime(timestamps[i], timestamps[i + 1]).TotalSeconds;
        _steps++;
    }

    /// <summary>Mean seconds per step of each phase since the last call, and starts over.</summary>
    public JsonObject TakeMeans()
    {
        var means = new JsonObject();
        for (int i = 0; i < names.Length; i++) means[names[i]] = _seconds[i] / Math.Max(1, _steps);
        Array.Clear(_seconds);
        _steps = 0;
        return means;
    }
}
