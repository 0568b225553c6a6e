using Loom.Models;

namespace Loom.Distributed.Tests.Host;

/// <summary>
/// N ranks with batch b against one process with batch N·b (computed on rank 0 alongside): 20 optimiser steps of
/// the same seeded data order, then the largest weight difference. Also checks that every replica is identical.
/// </summary>
internal static class Equivalence
{
    private const int Steps = 20, BatchPerRank = 8, Seed = 11;

    public static void Run(Communicator world, string model, string optimizer)
    {
        int globalBatch = BatchPerRank * world.Size;
        int count = Steps * globalBatch;
        var (inputs, targets) = Data(model, count);
        var dataset = new TensorDataset(inputs, targets);

        var replica = Build(model, world);
        using var ddp = new DistributedDataParallel(replica, world);
        var sharded = new DataLoader<Sample>(dataset, BatchPerRank, seed: Seed, prefetch: 0,
            sampler: new DistributedSampler(count, world.Rank, world.Size, shuffle: true));
        Train(replica, optimizer, sharded, ddp);

        var mine = Flatten(replica);
        // Parameters only: per-rank batch norm ("cnn-unsynced") keeps per-rank running statistics on purpose.
        var max = Flatten(replica, buffers: false);
        var min = (double[])max.Clone();
        world.AllReduce<double>(max, ReduceOp.Max);
        world.AllReduce<double>(min, ReduceOp.Min);
        RankHost.Check(max.SequenceEqual(min), "the replicas' parameters differ after training: every rank must step identically");

        if (world.Rank != 0) return;
        var single = Build(model, null);
        var whole = new DataLoader<Sample>(dataset, globalBatch, shuffle: true, seed: Seed, prefetch: 0);
        Train(single, optimizer, whole, null);
        var reference = Flatten(single);
        double worst = 0, scale = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(mine[i] - reference[i]));
            scale = Math.Max(scale, Math.Abs(reference[i]));
        }
        double moved = Flatten(Build(model, null)).Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        RankHost.Result(world, "maxdiff", worst.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        RankHost.Result(world, "moved", moved.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        RankHost.Result(world, "scale", scale.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
    }

    private static void Train(Module<Tensor, Tensor> model, string optimizerName, DataLoader<Sample> loader, DistributedDataParallel? ddp)
    {
        Optimizer optimizer = optimizerName switch
        {
            "sgd" => new Sgd(model.Parameters(), learningRate: 0.1, momentum: 0.9),
            "adam" => new Adam(model.Parameters(), learningRate: 0.01),
            _ => throw new ArgumentException($"unknown optimizer {optimizerName}"),
        };
        var loss = new CrossEntropyLoss();
        model.Train();
        int steps = 0;
        foreach (var batch in loader)
        {
            optimizer.ZeroGrad();
            loss.Forward(model.Forward(batch.Inputs), batch.Targets).Backward();
            ddp?.SynchronizeGradients();
            optimizer.Step();
            steps++;
        }
        RankHost.Check(steps == Steps, $"trained {steps} steps, expected {Steps}");
    }

    private static (Tensor Inputs, Tensor Targets) Data(string model, int count)
    {
        var g = new Generator(3);
        var shape = model switch
        {
            "mlp" => new Shape(count, 6),
            "cnn" or "cnn-unsynced" or "cnn-converted" or "resnet" => new Shape(count, 1, 8, 8),
            "lstm" => new Shape(count, 5, 3),
            _ => throw new ArgumentException($"unknown model {model}"),
        };
        return (Tensor.Randn(shape, g), Tensor.Randint(0, 3, new Shape(count), g));
    }

    // Rank 0's replica and the single process start from the same seed; DDP broadcasts rank 0's weights anyway.
    private static Module<Tensor, Tensor> Build(string model, Communicator? world)
    {
        Generator.ManualSeed(5);
        return model switch
        {
            "mlp" => new Sequential(new Linear(6, 16), new ReLU(), new Linear(16, 3)),
            // No bias before batch norm: its true gradient is 0, and Adam turns the rounding noise there into
            // full-size steps of either sign, which no two summation orders share.
            "cnn" or "cnn-unsynced" => new Sequential(new Conv2d(1, 4, 3, padding: 1, bias: false),
                world is null || model == "cnn-unsynced" ? new BatchNorm2d(4) : new SyncBatchNorm(4, world),
                new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3)),
            // Built with plain batch norm, then swapped the way `loom train --sync-batchnorm` does it.
            "cnn-converted" => Converted(Build("cnn-unsynced", null), world, 1),
            // The zoo's ResNet keeps its batch norms in typed properties: stem, two per block, one in the downsampling
            // shortcut, all swapped by ConvertAll as `loom train --model resnet-mini --sync-batchnorm` does.
            "resnet" => Converted(new ResNet(new ResNetConfig([4, 8], [1, 1], ImageNetStem: false), 1, 3), world, 6),
            "lstm" => new LastStep(),
            _ => throw new ArgumentException($"unknown model {model}"),
        };
    }

    private static Module<Tensor, Tensor> Converted(Module<Tensor, Tensor> model, Communicator? world, int batchNorms)
    {
        if (world is not null) RankHost.Check(SyncBatchNorm.ConvertAll(model, world) == batchNorms, $"ConvertAll should replace the model's {batchNorms} batch norms");
        return model;
    }

    /// <summary>
    /// ConvertAll on a model one of whose batch norms sits in a typed field: the refusal names that layer, and the
    /// layers swapped before it are put back.
    /// </summary>
    public static void ConvertRefusal(Communicator world)
    {
        var model = new Sequential(new BatchNorm1d(3), new FieldHeldNorm());
        try
        {
            SyncBatchNorm.ConvertAll(model, world);
            RankHost.Check(false, "ConvertAll accepted a batch norm its parent keeps in a field");
        }
        catch (ArgumentException e)
        {
            RankHost.Check(e.Message.Contains("'1.norm'", StringComparison.Ordinal), $"the error should name the layer: {e.Message}");
        }
        RankHost.Check(model.GetSubmodule("0") is BatchNorm1d, "the batch norm swapped before the refusal was not put back");
        RankHost.Result(world, "refused", 1);
    }

    private sealed class FieldHeldNorm : Module<Tensor, Tensor>
    {
        private readonly BatchNorm1d _norm;

        public FieldHeldNorm() => _norm = RegisterModule("norm", new BatchNorm1d(3));

        protected override Tensor ForwardCore(Tensor input) => _norm.Forward(input);
    }

    private sealed class LastStep : Module<Tensor, Tensor>
    {
        private readonly LSTM _lstm;
        private readonly Linear _head;

        public LastStep()
        {
            _lstm = RegisterModule("lstm", new LSTM(3, 8, batchFirst: true));
            _head = RegisterModule("head", new Linear(8, 3));
        }

        protected override Tensor ForwardCore(Tensor input) => _head.Forward(_lstm.Forward(input).Select(1, 4)); // the last of the 5 steps;
    }

    private static double[] Flatten(Module model, bool buffers = true) =>
        [.. model.Parameters().SelectMany(p => p.ToArray<float>().Select(v => (double)v)),
         .. model.NamedBuffers().Where(b => buffers && b.Buffer.DType == DType.Float32).SelectMany(b => b.Buffer.ToArray<float>().Select(v => (double)v))];
}
