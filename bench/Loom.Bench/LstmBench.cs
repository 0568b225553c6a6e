using Loom.Autograd;
using Loom.Memory;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// The peers' shape (d): LSTM(64 → 256), 50 steps, batch 32, batch-first, the last hidden state through Linear(256, 10),
/// cross-entropy and Adam. One training step = forward + loss + backward + optimiser step inside a MemoryScope, as the
/// trainer runs it. Also inference of the same LSTM without autograd. Reports ms, GFLOP/s (the peers' count:
/// 3 × 2·B·T·(in + H)·4H for a training step) and bytes allocated per step. torch takes 67–78 ms per step on 2 threads.
/// </summary>
public sealed class LstmBench : IBenchmark
{
    public string Suite => "train";

    public string Name => "lstm";

    public void Run(BenchReport report, BenchOptions options)
    {
        const int batch = 32, steps = 50, inputSize = 64, hidden = 256, classes = 10;
        var g = new Generator(1);
        var lstm = new LSTM(inputSize, hidden, batchFirst: true, generator: g);
        var head = new Linear(hidden, classes, generator: g);
        var optimizer = new Adam(lstm.Parameters().Concat(head.Parameters()));
        var x = Tensor.Randn(new Shape(batch, steps, inputSize), g);
        var target = Tensor.Randint(0, classes, new Shape(batch), g);
        double forwardGflop = 2.0 * batch * steps * (inputSize + hidden) * 4 * hidden / 1e9;
        double budget = options.Quick ? 0.5 : 3.0;

        void TrainStep()
        {
            using var scope = new MemoryScope();
            optimizer.ZeroGrad();
            var (_, (h, _)) = lstm.Forward(x, null);
            Functional.CrossEntropy(head.Forward(h.Select(0, 0)), target).Backward();
            optimizer.Step();
        }

        void Inference()
        {
            using var scope = new MemoryScope();
            using var noGrad = new NoGrad();
            lstm.Forward(x, null);
        }

        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            Measure(report, $"train step in{inputSize} h{hidden} T{steps} B{batch} t{threads}", TrainStep, 3 * forwardGflop, budget);
            Measure(report, $"inference in{inputSize} h{hidden} T{steps} B{batch} t{threads}", Inference, forwardGflop, budget);
        }
    }

    private void Measure(BenchReport report, string name, Action step, double gflop, double budget)
    {
        var (median, _, _) = Timing.Measure(step, budgetSeconds: budget);
        long before = GC.GetAllocatedBytesForCurrentThread();
        step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        report.Add(Name, name, ("ms", median * 1e3), ("GFLOP/s", gflop / median), ("alloc_KiB", allocated / 1024.0));
    }
}
