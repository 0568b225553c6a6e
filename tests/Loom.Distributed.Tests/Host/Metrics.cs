using Loom.Train;

namespace Loom.Distributed.Tests.Host;

/// <summary>
/// One epoch of the Trainer with DistributedDataParallel, each rank on its shard, against one process on all the data:
/// the epoch's training metrics (macro F1, micro precision, log loss) must be those of the whole data, not of rank 0's
/// shard. The learning rate is 0, so every batch is scored by the same weights and the two
/// runs see exactly the same predictions; what differs is only how the counts are gathered.
/// </summary>
internal static class Metrics
{
    private const int Count = 90, Features = 4, Classes = 5, BatchPerRank = 5, Seed = 3;

    public static void Run(Communicator world)
    {
        var g = new Generator(21);
        var dataset = new TensorDataset(Tensor.Randn(new Shape(Count, Features), g), Tensor.Randint(0, Classes, new Shape(Count), g));

        var sharded = new DataLoader<Sample>(dataset, BatchPerRank, seed: Seed, prefetch: 0,
            sampler: new DistributedSampler(Count, world.Rank, world.Size, shuffle: true));
        var (distributed, trainer) = Epoch(sharded, world);
        foreach (var (name, value) in distributed)
        {
            // Every rank reports the same reduced figure.
            double[] range = [value, -value];
            world.AllReduce<double>(range, ReduceOp.Max);
            RankHost.Check(range[0] == value && -range[1] == value, $"{name} differs between ranks");
        }

        if (world.Rank != 0) return;
        var (single, _) = Epoch(new DataLoader<Sample>(dataset, BatchPerRank * world.Size, shuffle: true, seed: Seed, prefetch: 0), null);
        // Rank 0's shard alone: what the epoch reported before the counts were reduced.
        var shard = new PrecisionRecallF1(Classes);
        using (new Autograd.NoGrad())
            foreach (var batch in sharded) shard.Update(trainer.Model.Forward(batch.Inputs), batch.Targets);
        foreach (var key in new[] { "f1_macro", "precision_micro", "log_loss" })
        {
            RankHost.Result(world, $"{key}.distributed", distributed[key].ToString("R", CultureInfo.InvariantCulture));
            RankHost.Result(world, $"{key}.single", single[key].ToString("R", CultureInfo.InvariantCulture));
        }
        RankHost.Result(world, "f1_macro.shard0", shard.Compute().ToString("R", CultureInfo.InvariantCulture));
    }

    private static (IReadOnlyDictionary<string, double> Values, Trainer Trainer) Epoch(DataLoader<Sample> loader, Communicator? world)
    {
        Generator.ManualSeed(5);
        var model = new Linear(Features, Classes);
        var trainer = new Trainer(model, new Sgd(model.Parameters(), learningRate: 0), (output, target) => Functional.CrossEntropy(output, target),
            new TrainerOptions { Epochs = 1 },
            [() => new PrecisionRecallF1(Classes), () => new PrecisionRecallF1(Classes, ClassificationScore.Precision, Averaging.Micro), () => new LogLoss()]);
        if (world is not null) trainer.DataParallel = new DistributedDataParallel(model, world);
        var fit = trainer.Fit(loader);
        return (fit.Epochs[0].Values, trainer);
    }
}
