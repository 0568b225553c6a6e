using Loom.Autograd;
using Loom.Memory;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Multi-head self-attention at the GPT shape of the peers' README (batch 8, context 128, d_model 256, 4 heads,
/// causal): forward, and forward + backward of Σ output, each step inside a MemoryScope as in training. Then decoding
/// 64 tokens one at a time through 4 attention layers at batch 1, with a <see cref="KeyValueCache"/> and by re-running
/// the whole causal prefix at every step (what decoding costs without one).
/// </summary>
public sealed class AttentionBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "attention";

    public void Run(BenchReport report, BenchOptions options)
    {
        const int batch = 8, context = 128, dModel = 256, heads = 4, layers = 4, tokens = 64;
        double budget = options.Quick ? 0.3 : 1.5;
        var mha = new MultiheadAttention(dModel, heads, batchFirst: true, generator: new Generator(1));
        var x = Tensor.Randn(new Shape(batch, context, dModel), new Generator(2)).RequiresGrad_();
        var stack = Enumerable.Range(0, layers).Select(i => new MultiheadAttention(dModel, heads, batchFirst: true, generator: new Generator((ulong)i + 3))).ToArray();
        var prompt = Tensor.Randn(new Shape(1, tokens, dModel), new Generator(9));
        // Attention FLOPs of one forward: QKV and output projections 8·B·T·E², scores and weighted sum 4·B·T²·E.
        double flops = 8.0 * batch * context * dModel * dModel + 4.0 * batch * context * context * dModel;

        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            double forward = Timing.Measure(() =>
            {
                using var scope = new MemoryScope();
                using var noGrad = new NoGrad();
                mha.Forward(x, x, x, isCausal: true, needWeights: false);
            }, budgetSeconds: budget).Median;
            double training = Timing.Measure(() =>
            {
                using var scope = new MemoryScope();
                mha.Forward(x, x, x, isCausal: true, needWeights: false).Output.Sum().Backward();
                mha.ZeroGrad();
                x.Grad = null;
            }, budgetSeconds: budget).Median;
            report.Add(Name, $"mha causal B{batch} T{context} E{dModel} H{heads} forward f32 t{threads}", ("ms", forward * 1e3), ("GFLOP/s", flops / forward / 1e9));
            report.Add(Name, $"mha causal B{batch} T{context} E{dModel} H{heads} forward+backward f32 t{threads}", ("ms", training * 1e3), ("GFLOP/s", 3 * flops / training / 1e9));

            double cached = Timing.Measure(() => Decode(stack, prompt, useCache: true), warmup: 1, minIterations: 3, budgetSeconds: budget).Median;
            double uncached = Timing.Measure(() => Decode(stack, prompt, useCache: false), warmup: 1, minIterations: 3, budgetSeconds: budget).Median;
            report.Add(Name, $"decode {tokens} tokens, {layers} attention layers E{dModel} H{heads} t{threads}",
                ("kv_cache_ms", cached * 1e3), ("recompute_ms", uncached * 1e3), ("speedup", uncached / cached));
        }
    }

    /// <summary>Feeds the positions of <paramref name="prompt"/> one by one, as generation does with its sampled tokens.</summary>
    private static void Decode(MultiheadAttention[] stack, Tensor prompt, bool useCache)
    {
        using var noGrad = new NoGrad();
        var cache = new KeyValueCache();
        int tokens = prompt.Shape[1];
        for (int t = 0; t < tokens; t++)
        {
            using var scope = new MemoryScope();
            var h = useCache ? prompt.Narrow(1, t, 1) : prompt.Narrow(1, 0, t + 1);
            foreach (var layer in stack)
                h = h.Add(layer.Forward(h, h, h, isCausal: true, needWeights: false, cache: useCache ? cache : null).Output);
        }
    }
}
