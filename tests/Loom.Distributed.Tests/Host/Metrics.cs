using Loom.Train;

namespace Loom.Distributed.Tests.Host;

/// <summary>
/// One epoch of the Trainer with DistributedDataParallel, each rank on its shard, against one process on all the data:
/// the epoch's training metrics (macro F1, micro precision, log loss) must be those of the whole data, not of rank 0's
/// shard. The learning rate is 0, so every batch is scored by the same weights and the two
/// runs see exactly the same predictions; what differs is only how the counts are gathered. The validation set is
/// shared out too: each rank evaluates every other batch of it, and the figures are the whole set's.
/// </summary>
internal static class Metrics
{
    private const int Count = 90, Features = 4, Classes = 5, BatchPerRank = 5, Seed = 3;
    private const int ValidationCount = 45, ValidationBatch = 7; // 7 batches, the last one short

    public static void Run(Communicator world)
    {
        var g = new Generator(21);
        var dataset = new TensorDataset(Tensor.Randn(new Shape(Count, Features), g), Tensor.Randint(0, Classes, new Shape(Count), g));
        var validation = new DataLoader<Sample>(
            new TensorDataset(Tensor.Randn(new Shape(ValidationCount, Features), g), Tensor.Randint(0, Classes, new Shape(ValidationCount), g)),
            ValidationBatch, prefetch: 0);

        var sharded = new DataLoader<Sample>(dataset, BatchPerRank, seed: Seed, prefetch: 0,
            sampler: new DistributedSampler(Count, world.Rank, world.Size, shuffle: true));
        var (distributed, trainer) = Epoch(sharded, validation, world);
        // Each validation batch was evaluated by one rank only.
        double[] evaluated = [((Counted)trainer.Model).EvaluatedBatches];
        world.AllReduce<double>(evaluated);
        RankHost.Result(world, "val.batches.rank0", ((Counted)trainer.Model).EvaluatedBatches);
        RankHost.Result(world, "val.batches.all_ranks", evaluated[0]);
        foreach (var (name, value) in distributed)
        {
            // Every rank reports the same reduced figure.
            double[] range = [value, -value];
            world.AllReduce<double>(range, ReduceOp.Max);
            RankHost.Check(range[0] == value && -range[1] == value, $"{name} differs between ranks");
        }

        if (world.Rank != 0) return;
        var (single, _) = Epoch(new DataLoader<Sample>(dataset, BatchPerRank * world.Size, shuffle: true, seed: Seed, prefetch: 0), validation, null);
        // Rank 0's shard alone: what the epoch reported before the counts were reduced.
        var shard = new PrecisionRecallF1(Classes);
        using (new Autograd.NoGrad())
            foreach (var batch in sharded) shard.Update(trainer.Model.Forward(batch.Inputs), batch.Targets);
        foreach (var key in new[] { "f1_macro", "precision_micro", "log_loss", "val_loss", "val_f1_macro", "val_log_loss" })
        {
            RankHost.Result(world, $"{key}.distributed", distributed[key].ToString("R", CultureInfo.InvariantCulture));
            RankHost.Result(world, $"{key}.single", single[key].ToString("R", CultureInfo.InvariantCulture));
        }
        RankHost.Result(world, "f1_macro.shard0", shard.Compute().ToString("R", CultureInfo.InvariantCulture));
    }

    private static (IReadOnlyDictionary<string, double> Values, Trainer Trainer) Epoch(DataLoader<Sample> loader, DataLoader<Sample> validation, Communicator? world)
    {
        Generator.ManualSeed(5);
        var model = new Counted();
        var trainer = new Trainer(model, new Sgd(model.Parameters(), learningRate: 0), (output, target) => Functional.CrossEntropy(output, target),
            new TrainerOptions { Epochs = 1 },
            [() => new PrecisionRecallF1(Classes), () => new PrecisionRecallF1(Classes, ClassificationScore.Precision, Averaging.Micro), () => new LogLoss()]);
        if (world is not null) trainer.DataParallel = new DistributedDataParallel(model, world);
        var fit = trainer.Fit(loader, validation);
        return (fit.Epochs[0].Values, trainer);
    }

    /// <summary>A linear layer that counts the batches it scores in eval mode (validation).</summary>
    private sealed class Counted : Module<Tensor, Tensor>
    {
        private readonly Linear _linear;

        public Counted() => _linear = RegisterModule("linear", new Linear(Features, Classes));

        public int EvaluatedBatches { get; private set; }

        protected override Tensor ForwardCore(Tensor input)
        {
            if (!Training) EvaluatedBatches++;
            return _linear.Forward(input);
        }
    }
}
