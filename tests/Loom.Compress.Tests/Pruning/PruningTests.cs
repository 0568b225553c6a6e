using Loom.Data;
using Loom.Train;

namespace Loom.Compress.Tests.Pruning;

public sealed class PruningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-prune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Sequential Mlp(ulong seed)
    {
        Generator.ManualSeed(seed);
        return new Sequential(new Linear(8, 32), new ReLU(), new Linear(32, 3));
    }

    [Fact]
    public void Global_magnitude_pruning_removes_exactly_the_smallest_weights()
    {
        var model = Mlp(1);
        var all = PruningMasks.Prunable(model).SelectMany(p => p.Parameter.ToArray<float>().Select(Math.Abs)).Order().ToArray();
        var biasBefore = ((Linear)model[0]).Bias!.ToArray<float>();
        var masks = PruningMasks.Magnitude(model, 0.6);
        int expected = (int)Math.Round(0.6 * all.Length);
        var report = SparsityReport.Of(model);
        Assert.Equal(all.Length - expected, report.NonZero);
        // Every kept weight is at least as large as every pruned one.
        float threshold = all[expected - 1];
        foreach (var (_, p) in PruningMasks.Prunable(model))
            Assert.All(p.ToArray<float>(), v => Assert.True(v == 0 || Math.Abs(v) >= threshold));
        Assert.Equal(biasBefore, ((Linear)model[0]).Bias!.ToArray<float>()); // biases are not pruned
        Assert.Equal(0.6, masks.Sparsity, 2);
    }

    [Fact]
    public void Layer_wise_pruning_gives_every_layer_the_same_sparsity()
    {
        var model = Mlp(2);
        PruningMasks.Magnitude(model, 0.75, PruningScope.LayerWise);
        var report = SparsityReport.Of(model);
        Assert.All(report.Layers, l => Assert.Equal(Math.Round(0.75 * l.Elements), l.Elements - l.NonZero));
        Assert.Contains("| 0.weight | [32, 8] | 256 | 64 | 75.0% |", report.Markdown());
    }

    [Fact]
    public void Cubic_schedule_matches_its_formula()
    {
        var s = new SparsitySchedule(0.1, 0.9, beginStep: 10, endStep: 50, frequency: 10);
        Assert.Equal(0, s.At(9));
        Assert.Equal(0.1, s.At(10), 12);
        Assert.Equal(0.1, s.At(19), 12); // held between updates
        Assert.Equal(0.9 - 0.8 * Math.Pow(1 - 10.0 / 40, 3), s.At(20), 12);
        Assert.Equal(0.9 - 0.8 * Math.Pow(1 - 20.0 / 40, 3), s.At(39), 12); // updated at step 30
        Assert.Equal(0.9, s.At(50), 12);
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new SparsitySchedule(0.5, 0.2, 0, 10), "initial (0.5) <= final (0.2)");
    }

    private (Sequential Model, Trainer Trainer, DataLoader<Sample> Loader, PruningCallback Pruning) Build(int epochs)
    {
        var model = Mlp(3);
        var optimizer = new Adam(model.Parameters(), 0.05); // momentum would revive pruned weights if the mask were not re-applied
        var pruning = new PruningCallback(new SparsitySchedule(0.2, 0.8, beginStep: 0, endStep: 12, frequency: 3), model: model);
        var trainer = new Trainer(model, optimizer, (o, t) => Functional.CrossEntropy(o, t), new TrainerOptions { Epochs = epochs, Seed = 4 }, callbacks: [pruning]);
        return (model, trainer, new DataLoader<Sample>(Blobs(96), 16, shuffle: true, seed: 5), pruning);
    }

    [Fact]
    public void Masks_stay_applied_through_optimiser_steps_and_a_checkpoint_resume()
    {
        var (model, trainer, loader, pruning) = Build(epochs: 2); // 12 steps: the ramp ends at the last one
        trainer.Fit(loader);
        Assert.Equal(0.8, SparsityReport.Of(model).Sparsity, 2);
        var zeros = ZeroPositions(model);
        var path = Path.Combine(_dir, "last.ckpt");
        trainer.SaveCheckpoint(path);

        // A new process: fresh model, optimiser and callback, resumed from the checkpoint, trained 2 more epochs.
        var resumed = Build(epochs: 4);
        resumed.Trainer.LoadCheckpoint(path);
        Assert.Equal(0.8, resumed.Pruning.Masks!.Sparsity, 2);
        resumed.Trainer.Fit(resumed.Loader);
        Assert.Equal(zeros, ZeroPositions(resumed.Model)); // the same weights are pruned, and only those
        Assert.True(resumed.Trainer.GlobalStep > trainer.GlobalStep);

        // Without the callback the optimiser moves pruned weights again: the check above could fail.
        var free = new Trainer(resumed.Model, new Adam(resumed.Model.Parameters(), 0.05), (o, t) => Functional.CrossEntropy(o, t), new TrainerOptions { Epochs = 1 });
        free.Fit(resumed.Loader);
        Assert.True(SparsityReport.Of(resumed.Model).Sparsity < 0.5);
    }

    private static List<(string, int)> ZeroPositions(Module model) =>
        PruningMasks.Prunable(model).SelectMany(p => p.Parameter.ToArray<float>().Select((v, i) => (v, i)).Where(x => x.v == 0).Select(x => (p.Name, x.i))).ToList();

    /// <summary>Three Gaussian blobs in 8 dimensions, a problem an MLP learns in a few steps.</summary>
    internal static TensorDataset Blobs(int count)
    {
        var rng = new Generator(1);
        var x = new float[count * 8];
        var y = new long[count];
        for (int i = 0; i < count; i++)
        {
            y[i] = i % 3;
            for (int f = 0; f < 8; f++) x[i * 8 + f] = (float)rng.NextNormal() + (f % 3 == i % 3 ? 4f : 0f);
        }
        return new TensorDataset(Tensor.FromArray(x, count, 8), Tensor.FromArray(y));
    }
}
