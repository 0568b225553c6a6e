using Loom.Compress.Tests.Pruning;
using Loom.Data;
using Loom.Train;

namespace Loom.Compress.Tests.Distillation;

public sealed class MixupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("loom-mixup-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Batch_is_mixed_with_a_permutation_of_itself_and_the_targets_mix_alike()
    {
        var g = new Generator(1);
        var batch = Tensor.Randn(new Shape(5, 3), g).To(DType.Float64);
        var mixup = new Mixup(new Generator(7));
        var mixed = mixup.Mix(batch).ToArray<double>();
        double lambda = mixup.Lambda;
        long[] partners = mixup.Partners!.ToArray<long>();
        Assert.InRange(lambda, 0, 1);
        Assert.Equal([0, 1, 2, 3, 4], partners.Order());
        Assert.NotEqual([0, 1, 2, 3, 4], partners); // seed 7 pairs some samples with others
        var x = batch.ToArray<double>();
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(lambda * x[i * 3 + j] + (1 - lambda) * x[partners[i] * 3 + j], mixed[i * 3 + j], 12);
        // The same seed mixes the same way (runs are reproducible).
        Assert.Equal(mixed, new Mixup(new Generator(7)).Mix(batch).ToArray<double>());

        // The labels: λ·CE(y) + (1 − λ)·CE(y[π]), computed by hand from per-sample losses.
        var logits = Tensor.Randn(new Shape(5, 4), g).To(DType.Float64);
        var target = Tensor.FromArray(new long[] { 0, 3, 1, 2, 3 });
        double[] perSample = Enumerable.Range(0, 5).Select(i => Functional.CrossEntropy(logits.Narrow(0, i, 1), target.Narrow(0, i, 1)).ToArray<double>()[0]).ToArray();
        double CrossEntropyAgainst(int i, long label) => Functional.CrossEntropy(logits.Narrow(0, i, 1), Tensor.FromArray(new[] { label })).ToArray<double>()[0];
        long[] y = target.ToArray<long>();
        double expected = Enumerable.Range(0, 5).Average(i => lambda * perSample[i] + (1 - lambda) * CrossEntropyAgainst(i, y[partners[i]]));
        Assert.Equal(expected, mixup.Loss(t => Functional.CrossEntropy(logits, t), target).ToArray<double>()[0], 10);

        // Cleared (evaluation batches): the plain loss, nothing remembered.
        mixup.Clear();
        Assert.Null(mixup.Partners);
        Assert.Equal(Functional.CrossEntropy(logits, target).ToArray<double>()[0], mixup.Loss(t => Functional.CrossEntropy(logits, t), target).ToArray<double>()[0], 12);
    }

    [Fact]
    public void Mixed_distillation_loss_gradient_matches_finite_differences_and_a_wrong_target_is_refused()
    {
        var g = new Generator(2);
        var student = Tensor.Randn(new Shape(4, 3), g).To(DType.Float64).RequiresGrad_();
        var teacher = Tensor.Randn(new Shape(4, 3), g).To(DType.Float64);
        var target = Tensor.FromArray(new long[] { 2, 0, 1, 1 });
        var mixup = new Mixup(new Generator(3));
        mixup.Mix(Tensor.Zeros(4, 2));
        TensorAssert.GradientsMatch(x => mixup.Loss(t => Compress.Distillation.Loss(x[0], teacher, t, 2, 0.4), target), student);
        TensorAssert.Throws<ArgumentException>(() => mixup.Loss(t => t.To(DType.Float64).Sum(), Tensor.FromArray(new long[] { 1, 2 })), "does not match the mixed batch of 4");
    }

    [Fact]
    public void A_resumed_run_draws_the_mixes_the_uninterrupted_run_draws()
    {
        var straight = Build(epochs: 2);
        straight.Trainer.Fit(straight.Loader);

        var first = Build(epochs: 1);
        first.Trainer.Fit(first.Loader);
        var path = Path.Combine(_dir, "last.ckpt");
        first.Trainer.SaveCheckpoint(path);
        // A new process: fresh model, optimiser and mixup (its generator back at the seed), resumed from the checkpoint.
        var resumed = Build(epochs: 2);
        resumed.Trainer.LoadCheckpoint(path);
        resumed.Trainer.Fit(resumed.Loader);
        Assert.Equal(straight.Mixup.Lambda, resumed.Mixup.Lambda);
        foreach (var (a, b) in straight.Model.Parameters().Zip(resumed.Model.Parameters())) Assert.Equal(a.ToArray<float>(), b.ToArray<float>());

        // The same resume with the mixup's state left out of the trainer mixes epoch 2 like epoch 1 and ends elsewhere:
        // the check above could fail.
        var forgetful = Build(epochs: 2, mixupInCheckpoints: false);
        forgetful.Trainer.LoadCheckpoint(path);
        forgetful.Trainer.Fit(forgetful.Loader);
        Assert.NotEqual(straight.Mixup.Lambda, forgetful.Mixup.Lambda);
        Assert.NotEqual(straight.Model.Parameters().First().ToArray<float>(), forgetful.Model.Parameters().First().ToArray<float>());
    }

    /// <summary>An MLP trained on mixed batches of three blobs, the mixup given to the trainer as a callback (or not).</summary>
    private static (Sequential Model, Trainer Trainer, DataLoader<Sample> Loader, Mixup Mixup) Build(int epochs, bool mixupInCheckpoints = true)
    {
        var g = new Generator(3);
        var model = new Sequential(new Linear(8, 16, generator: g), new ReLU(), new Linear(16, 3, generator: g));
        var mixup = new Mixup(new Generator(11));
        model.RegisterForwardPreHook((m, x) => m.Training ? mixup.Mix((Tensor)x) : null);
        var trainer = new Trainer(model, new Adam(model.Parameters(), 0.05), (o, t) => mixup.Loss(y => Functional.CrossEntropy(o, y), t),
            new TrainerOptions { Epochs = epochs, Seed = 4 }, callbacks: mixupInCheckpoints ? [mixup] : []);
        return (model, trainer, new DataLoader<Sample>(PruningTests.Blobs(96), 16, shuffle: true, seed: 5), mixup);
    }
}
