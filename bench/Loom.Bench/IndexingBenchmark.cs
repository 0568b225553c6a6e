using Loom.Memory;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Data movement of the indexing ops at the shapes a training step or a generation step uses them: concatenating
/// activations, an embedding lookup and its backward, picking the target logits, a causal attention mask, top-k
/// sampling over a vocabulary. Figures are medians in microseconds, and GB/s where the op streams memory.
/// </summary>
public sealed class IndexingBenchmark : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "indexing";

    public void Run(BenchReport report, BenchOptions options)
    {
        var g = new Generator(42);
        double budget = options.Quick ? 0.2 : 1.0;
        var a = Tensor.Randn(new Shape(512, 1024), g);
        var b = Tensor.Randn(new Shape(512, 1024), g);
        var table = Tensor.Randn(new Shape(4096, 256), g).RequiresGrad_();
        var tokens = Tensor.Randint(0, 4096, new Shape(1024), g);
        var tokenGrad = Tensor.Randn(new Shape(1024, 256), g);
        var logits = Tensor.Randn(new Shape(1024, 4096), g);
        var targets = Tensor.Randint(0, 4096, new Shape(1024, 1), g);
        var scores = Tensor.Randn(new Shape(8, 4, 128, 128), g);
        var future = Tensor.Ones(new Shape(128, 128)).Triu(1).To(DType.Bool);
        var randomMask = Tensor.Randint(0, 2, new Shape(8, 4, 128, 128), g, DType.Bool);
        var vocab1 = Tensor.Randn(new Shape(1, 4096), g);
        var vocab64 = Tensor.Randn(new Shape(64, 4096), g);

        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            string t = $"{threads}t";
            Report(report, $"cat 2×[512, 1024] axis 1 {t}", () => Tensor.Cat([a, b], 1), bytes: 2 * 2 * a.Numel * 4L, budget);
            Report(report, $"index_select [4096, 256] ← 1024 {t}", () => table.Detach().IndexSelect(0, tokens), bytes: 2 * 1024 * 256 * 4L, budget);
            // Accumulates into the existing Grad, as steps between ZeroGrad calls do; a fresh Grad would time the
            // engine's allocation of a 4 MB array rather than the op.
            Report(report, $"index_select backward {t}", () => table.IndexSelect(0, tokens).Backward(tokenGrad), bytes: 0, budget);
            Report(report, $"gather [1024, 4096] ← [1024, 1] {t}", () => logits.Gather(1, targets), bytes: 0, budget);
            Report(report, $"masked_fill [8, 4, 128, 128] causal {t}", () => scores.MaskedFill(future, double.NegativeInfinity), bytes: 2 * scores.Numel * 4L, budget);
            Report(report, $"masked_fill [8, 4, 128, 128] random {t}", () => scores.MaskedFill(randomMask, 0), bytes: 2 * scores.Numel * 4L, budget);
            Report(report, $"tril [32, 128, 128] {t}", () => scores.Reshape(32, 128, 128).Tril(), bytes: 2 * scores.Numel * 4L, budget);
            Report(report, $"topk 40 of [1, 4096] {t}", () => vocab1.TopK(40), bytes: 0, budget);
            Report(report, $"topk 40 of [64, 4096] {t}", () => vocab64.TopK(40), bytes: 0, budget);
            Report(report, $"sort [64, 4096] {t}", () => vocab64.Sort(), bytes: 0, budget);
        }
    }

    private static void Report(BenchReport report, string @case, Action op, long bytes, double budget)
    {
        var (median, min, iterations) = Timing.Measure(() =>
        {
            using var scope = new MemoryScope();
            op();
        }, budgetSeconds: budget);
        if (bytes > 0)
            report.Add("indexing", @case, ("us", median * 1e6), ("min_us", min * 1e6), ("GB/s", bytes / median / 1e9), ("iterations", iterations));
        else
            report.Add("indexing", @case, ("us", median * 1e6), ("min_us", min * 1e6), ("iterations", iterations));
    }
}
