using Loom.Nn;
using Loom.Random;

namespace Loom.Train.Tests.Training;

/// <summary>
/// After warm-up a training step allocates little beyond small objects: its tensors come from the buffer pool, and so
/// does the batch, which the loader rents on its own thread and the Trainer gives back with the step's activations.
/// Data-parallel ranks wait for each other at every step, so a rank's garbage collection (one every few steps when a
/// step left a few hundred KB behind) became the other rank's wait (Note [Distributed], session 26). The bounds are
/// about twice the measured figures (44 KB a step, 24 KB an evaluated batch) and below one batch of inputs (100 KB,
/// in a 128-KB pooled array), which a step that no longer gives its batch back allocates anew each time; batch
/// norm's per-row scratch as fresh arrays cost ~500 KB a step.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public class TrainerAllocationTests
{
    private const int BatchSize = 32;

    // SmallCnn of Loom.Models at Fashion-MNIST's size: conv–BN–ReLU–pool twice, then Linear–ReLU–Dropout–Linear.
    private static Sequential Cnn() => new(
        new Conv2d(1, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
        new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(64 * 7 * 7, 128), new ReLU(), new Dropout(0.1), new Linear(128, 10));

    private static TensorDataset Images(int count, ulong seed)
    {
        var g = new Generator(seed);
        return new TensorDataset(Tensor.Randn(new Shape(count, 1, 28, 28), g), Tensor.Randint(0, 10, new Shape(count), g));
    }

    [Fact]
    public void A_cnn_training_step_allocates_under_96_KB_after_warm_up()
    {
        Generator.ManualSeed(1);
        var model = Cnn();
        var steps = new StepAllocations();
        var trainer = new Trainer(model, new Adam(model.Parameters(), 1e-3), TinyProblem.CrossEntropy, new TrainerOptions { Epochs = 2 },
            [() => new Accuracy()], [steps]);
        // No prefetch worker: the batch is gathered on this thread, so its allocation is counted with the step's.
        trainer.Fit(new DataLoader<Sample>(Images(12 * BatchSize, 2), BatchSize, shuffle: true, seed: 3, prefetch: 0));
        long fewest = steps.SecondEpoch.Min(), median = steps.SecondEpoch.Order().ElementAt(steps.SecondEpoch.Count / 2);
        Assert.True(median < 96 << 10, $"a CNN step allocated {median:N0} bytes (median of the second epoch; fewest {fewest:N0})");
    }

    [Fact]
    public void Evaluating_a_loader_gives_its_batches_back()
    {
        Generator.ManualSeed(1);
        var model = Cnn();
        var evaluator = new Evaluator(model, TinyProblem.CrossEntropy, [() => new Accuracy()]);
        var loader = new DataLoader<Sample>(Images(20 * BatchSize, 4), BatchSize, prefetch: 0);
        evaluator.Evaluate(loader); // warm-up: JIT, pool
        long before = GC.GetAllocatedBytesForCurrentThread();
        evaluator.Evaluate(loader);
        long perBatch = (GC.GetAllocatedBytesForCurrentThread() - before) / loader.Count;
        Assert.True(perBatch < 64 << 10, $"evaluation allocated {perBatch:N0} bytes a batch");
    }

    /// <summary>Bytes this thread allocated from one step's end to the next's, in the second epoch.</summary>
    private sealed class StepAllocations : ICallback
    {
        private long _last;

        public List<long> SecondEpoch { get; } = [];

        public void OnEpochStart(Trainer trainer, int epoch, int batches) => _last = GC.GetAllocatedBytesForCurrentThread();

        public void OnBatchEnd(Trainer trainer, StepInfo step)
        {
            long now = GC.GetAllocatedBytesForCurrentThread();
            if (step.Epoch == 1) SecondEpoch.Add(now - _last);
            _last = GC.GetAllocatedBytesForCurrentThread();
        }
    }
}
