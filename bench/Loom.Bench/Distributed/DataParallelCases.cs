using System.Text.Json.Nodes;
using Loom.Data;
using Loom.Distributed;
using Loom.Memory;
using Loom.Models;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench.Distributed;

/// <summary>
/// The cases a rank of a benchmark job can run (<see cref="RankServer"/>), each built the same way on every rank.
/// <list type="bullet">
/// <item><c>allreduce</c> (<c>{"bytes": n}</c>): one step is <see cref="DistributedDataParallel.SynchronizeGradients"/>
/// of a model whose gradients fill one bucket of n bytes: the copy into the bucket, the non-blocking all-reduce and
/// its polled wait, and the division by the number of ranks, which is what a training step pays per bucket.</item>
/// <item><c>iallreduce</c> (<c>{"bytes": n}</c>): the bucket's collective alone, <see cref="Communicator.AllReduce{T}(Span{T}, ReduceOp)"/>
/// (MPI_Iallreduce in place and the polled wait with a timeout), without the division.</item>
/// <item><c>trainstep/gpt</c> and <c>cnn/fashion-mnist</c> (<c>{"global_batch": b}</c>): a training step (forward,
/// cross-entropy, backward, gradient all-reduce, Adam step) on b / ranks samples per rank, so every job configuration
/// trains on the same global batch. With one rank there is no DistributedDataParallel at all, as a user without
/// `--distributed` runs.</item>
/// </list>
/// </summary>
internal static class DataParallelCases
{
    public static Action Create(string name, JsonObject parameters, Communicator world) => name switch
    {
        "allreduce" => AllReduce(parameters["bytes"]?.GetValue<long>() ?? 4 << 20, world),
        "iallreduce" => Collective(parameters["bytes"]?.GetValue<long>() ?? 4 << 20, world),
        "trainstep/gpt" => GptStep(Batch(parameters, 8, world), world),
        "cnn/fashion-mnist" => CnnStep(Batch(parameters, 64, world), world),
        _ => throw new CaseUnavailableException($"unknown case '{name}' (this job has: allreduce, iallreduce, trainstep/gpt, cnn/fashion-mnist)"),
    };

    private static int Batch(JsonObject parameters, int defaultGlobal, Communicator world)
    {
        int global = parameters["global_batch"]?.GetValue<int>() ?? defaultGlobal;
        if (global % world.Size != 0)
            throw new CaseUnavailableException($"the global batch {global} does not divide among {world.Size} ranks");
        return global / world.Size;
    }

    private static Action AllReduce(long bytes, Communicator world)
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
        return ddp.SynchronizeGradients;
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
        public GradientHolder(int floats) => Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(floats)))!;

        public Parameter Weight { get; }
    }

    // TrainStepBench's GPT case (4 layers, d 256, T 128, vocab 4096), its batch of 8 shared out among the ranks.
    private static Action GptStep(int batch, Communicator world)
    {
        var config = new GptConfig(GeluTanh: false);
        var g = new Generator(0);
        int global = batch * world.Size;
        var inputs = Tensor.Randint(0, config.Vocab, new Shape(global, config.Context), g).Narrow(0, world.Rank * batch, batch).Contiguous();
        var targets = Tensor.Randint(0, config.Vocab, new Shape(global, config.Context), g).Narrow(0, world.Rank * batch, batch).Contiguous();
        Generator.ManualSeed(1);
        return TrainingStep(new Gpt(config), 1e-3, world, _ => (inputs, targets), sequence: true);
    }

    // The CLI's `--model cnn` on Fashion-MNIST with its task defaults (batch 64, Adam 2e-3), through the training set
    // batch after batch; each rank takes its share of the global batch.
    private static Action CnnStep(int batch, Communicator world)
    {
        if (!FashionMnist.IsAvailable())
            throw new CaseUnavailableException($"Fashion-MNIST is not installed in {FashionMnist.DefaultFolder} (apt-get install dataset-fashion-mnist)");
        var train = FashionMnist.Load().Train;
        int global = batch * world.Size, batches = train.Count / global;
        Generator.ManualSeed(1);
        var model = ModelZoo.SmallCnn((1, 28, 28), FashionMnist.ClassNames.Count);
        return TrainingStep(model, 2e-3, world, k =>
        {
            int start = (k % batches) * global + world.Rank * batch;
            return (train.Inputs.Narrow(0, start, batch), train.Targets.Narrow(0, start, batch));
        }, sequence: false);
    }

    private static Action TrainingStep(Module<Tensor, Tensor> model, double learningRate, Communicator world, Func<int, (Tensor Inputs, Tensor Targets)> batchAt, bool sequence)
    {
        var ddp = world.Size > 1 ? new DistributedDataParallel(model, world) : null;
        var optimizer = new Adam(model.Parameters(), learningRate);
        model.Train();
        int k = 0;
        return () =>
        {
            using var scope = new MemoryScope();
            var (x, y) = batchAt(k++);
            optimizer.ZeroGrad(setToNone: false);
            var output = model.Forward(x);
            var loss = sequence
                ? Functional.CrossEntropy(output.Reshape(-1, output.Shape[^1]), y.Reshape(-1))
                : Functional.CrossEntropy(output, y);
            loss.Backward();
            ddp?.SynchronizeGradients();
            optimizer.Step();
        };
    }
}
