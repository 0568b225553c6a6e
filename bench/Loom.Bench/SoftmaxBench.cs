using Loom.Memory;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Softmax over the last axis and layer norm (with affine) on [8192, 1024] float32: 32 MiB in and 32 MiB out, more
/// than the L2 cache, so both are bound by memory bandwidth. Reported as GB/s of bytes read and written, and as a
/// fraction of a plain parallel copy of the same buffers measured in the same run (the ceiling for a one-read,
/// one-write kernel on this machine; the peers' README puts it at ~21 GB/s on one thread, 34–43 on two).
/// Each op runs inside a MemoryScope, as in a training step, so its output comes from the buffer pool.
/// </summary>
public sealed class SoftmaxBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "softmax";

    public void Run(BenchReport report, BenchOptions options)
    {
        const int rows = 8192, cols = 1024;
        var x = Tensor.Randn(new Shape(rows, cols), new Generator(1));
        var weight = Tensor.Randn(new Shape(cols), new Generator(2));
        var bias = Tensor.Randn(new Shape(cols), new Generator(3));
        var copySource = x.ToArray<float>();
        var copyTarget = new float[copySource.Length];
        double bytes = 2.0 * rows * cols * sizeof(float);
        double budget = options.Quick ? 0.2 : 1.0;

        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            double copy = bytes / Timing.Measure(() => ParallelCopy(copySource, copyTarget, threads), budgetSeconds: budget).Median / 1e9;
            report.Add(Name, $"copy [{rows}, {cols}] f32 t{threads}", ("GB/s", copy));
            Measure(report, $"softmax [{rows}, {cols}] f32 t{threads}", () => x.Softmax(-1), bytes, copy, budget);
            Measure(report, $"log_softmax [{rows}, {cols}] f32 t{threads}", () => x.LogSoftmax(-1), bytes, copy, budget);
            Measure(report, $"layer_norm [{rows}, {cols}] f32 t{threads}", () => Functional.LayerNorm(x, [cols], weight, bias), bytes, copy, budget);
        }
        // In L2 (256 KiB in and out, one thread): the kernels' compute rate, without the memory system.
        Threads.Count = 1;
        var small = Tensor.Randn(new Shape(64, cols), new Generator(4));
        double smallBytes = 2.0 * 64 * cols * sizeof(float);
        Measure(report, $"softmax [64, {cols}] f32 in-cache t1", () => small.Softmax(-1), smallBytes, double.NaN, budget);
        Measure(report, $"layer_norm [64, {cols}] f32 in-cache t1", () => Functional.LayerNorm(small, [cols], weight, bias), smallBytes, double.NaN, budget);
    }

    private static void Measure(BenchReport report, string name, Func<Tensor> op, double bytes, double copy, double budget)
    {
        var (median, _, _) = Timing.Measure(() =>
        {
            using var scope = new MemoryScope();
            op();
        }, budgetSeconds: budget);
        double gbs = bytes / median / 1e9;
        if (double.IsNaN(copy)) report.Add("softmax", name, ("ms", median * 1e3), ("GB/s", gbs));
        else report.Add("softmax", name, ("ms", median * 1e3), ("GB/s", gbs), ("of_copy", gbs / copy));
    }

    /// <summary>
    /// The ceiling: one read and one write of every element, split evenly over <paramref name="threads"/> plain
    /// threads. It is the machine's figure, not a Loom op, so it runs on the .NET thread pool over plain arrays.
    /// </summary>
    private static void ParallelCopy(float[] source, float[] destination, int threads)
    {
        int chunk = (source.Length + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            int start = i * chunk, count = Math.Min(chunk, source.Length - start);
            if (count > 0) source.AsSpan(start, count).CopyTo(destination.AsSpan(start, count));
        });
    }
}
