using Loom.Autograd;
using Loom.Memory;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Multi-head self-attention at the GPT shape of the peers' README (batch 8, context 128, d_model 256, 4 heads,
/// causal): forward, and forward + backward of Σ output, each step inside a MemoryScope as in training. Then decoding
/// 64 tokens one at a time through 4 attention layers at batch 1, with a <see cref="KeyValueCache"/> and by re-running
/// the whole causal prefix at every step (what decoding costs without one). Cases "fused": the fused
/// <see cref="Functional.SelfAttention"/> alone, forward and forward + backward, at the GPT 4L step's shape and GPT-2's.
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
            Fused(report, options, budget, threads, batch: 8, tokens: 128, width: 256, heads: 4);   // the GPT 4L step
            Fused(report, options, budget, threads, batch: 4, tokens: 64, width: 768, heads: 12);   // GPT-2 124M, B4 T64
            if (!options.Includes($"mha causal B{batch} T{context} E{dModel} H{heads}") && !options.Includes($"decode {tokens} tokens")) continue;
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

    /// <summary>
    /// The fused op on a [B, T, 3C] projection, causal. FLOPs are those of the causal half the kernel computes:
    /// Q·Kᵀ and P·V over T(T+1)/2 query-key pairs per head forward (4·B·C·T(T+1)/2), 2.5× that backward
    /// (recomputed Q·Kᵀ, then dV, dP, dQ, dK).
    /// </summary>
    /// <remarks>
    /// Half a second of warm-up first: with 3 calls (or 50 of ~1 ms), the first case of a process (1 thread) timed the
    /// kernels' loops before the JIT's second tier had compiled them, 2–5× slower than later in the same process.
    /// </remarks>
    private void Fused(BenchReport report, BenchOptions options, double budget, int threads, int batch, int tokens, int width, int heads)
    {
        string name = $"fused self_attention causal B{batch} T{tokens} C{width} H{heads}";
        if (!options.Includes(name)) return;
        var qkv = Tensor.Randn(new Shape(batch, tokens, 3 * width), new Generator(11)).RequiresGrad_();
        var gradOutput = Tensor.Randn(new Shape(batch, tokens, width), new Generator(12));
        double flops = 4.0 * batch * width * tokens * (tokens + 1) / 2;
        void Train()
        {
            using var scope = new MemoryScope();
            Functional.SelfAttention(qkv, heads).Backward(gradOutput);
            qkv.Grad = null;
        }
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed.TotalSeconds < 0.5;) Train();
        double forward = Timing.Measure(() =>
        {
            using var scope = new MemoryScope();
            using var noGrad = new NoGrad();
            Functional.SelfAttention(qkv, heads);
        }, budgetSeconds: budget).Median;
        double training = Timing.Measure(Train, budgetSeconds: budget).Median;
        report.Add(Name, $"{name} forward f32 t{threads}", ("ms", forward * 1e3), ("GFLOP/s", flops / forward / 1e9));
        report.Add(Name, $"{name} forward+backward f32 t{threads}", ("ms", training * 1e3), ("GFLOP/s", 3.5 * flops / training / 1e9));
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
