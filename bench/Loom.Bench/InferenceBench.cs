using Loom.Autograd;
using Loom.Bench.Comparison;
using Loom.Models;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Inference as the PyTorch peer's "infer" cases measure it: MLP 784-512-512-10 at batch 1 without gradients, and
/// greedy generation of 64 tokens from the GPT at batch 1 with and without the key/value cache. With --peers, each case
/// alternates rounds with PyTorch's and the Loom/PyTorch time ratio is reported (below 1: Loom is faster).
/// </summary>
public sealed class InferenceBench : IBenchmark
{
    public string Suite => "train";

    public string Name => "inference";

    public void Run(BenchReport report, BenchOptions options)
    {
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            if (options.Includes("gpt-small generate")) GenerateSmall(report, options, threads);
            if (!options.Includes("mlp batch 1") && !options.Includes("gpt generate 64")) continue;
            Generator.ManualSeed(3);
            var mlp = new Sequential(new Linear(784, 512), new ReLU(), new Linear(512, 512), new ReLU(), new Linear(512, 10));
            mlp.Eval();
            var x = Tensor.Randn(1, 784);
            Add(report, threads, "mlp batch 1", CaseTimer.Time(() => { using var _ = new NoGrad(); mlp.Forward(x); },
                report.Peers.Setup("torch", "infer/mlp", threads, warmup: 50), options, warmup: 50, minIterations: 200, budgetSeconds: options.Quick ? 0.3 : 2));
            var gpt = new Gpt(new GptConfig(GeluTanh: false)); // as the peer: F.gelu's exact form
            gpt.Eval();
            var prompt = Tensor.Randint(0, 4096, new Shape(1, 1));
            int tokens = 64;
            Add(report, threads, "gpt generate 64, kv cache", CaseTimer.Time(() => gpt.Generate(prompt, tokens, useCache: true),
                report.Peers.Setup("torch", "infer/gpt-generate-cache", threads, warmup: 2), options, warmup: 2, minIterations: 3, budgetSeconds: options.Quick ? 0.5 : 5));
            Add(report, threads, "gpt generate 64, no cache", CaseTimer.Time(() => gpt.Generate(prompt, tokens, useCache: false),
                report.Peers.Setup("torch", "infer/gpt-generate-nocache", threads, warmup: 1), options, warmup: 1, minIterations: 3, budgetSeconds: options.Quick ? 0.5 : 5));
        }
    }

    /// <summary>
    /// The generation bar: gpt-small (6 layers, width 384, its 4,096-token BPE vocabulary) continuing a 4-token
    /// prompt by 240 tokens at batch 1 with the key/value cache, sampled as `loom generate` does; tokens/s of the whole
    /// call (prefill included).
    /// </summary>
    private void GenerateSmall(BenchReport report, BenchOptions options, int threads)
    {
        const int tokens = 240;
        var gpt = new Gpt(GptConfig.Preset("gpt-small", 4096));
        int[][] prompt = [[11, 402, 1543, 7]];
        var generation = new GenerationOptions(MaxTokens: tokens, Temperature: 0.8, TopK: 40, Seed: 1);
        var t = CaseTimer.Time(() => gpt.Generate(prompt, generation), null, options, warmup: 1, minIterations: 3, budgetSeconds: options.Quick ? 1 : 6);
        report.Add(Name, $"gpt-small generate {tokens} @{threads}t",
        [
            ("threads", threads), ("median_ms", t.MedianSeconds * 1e3), ("min_ms", t.MinSeconds * 1e3), ("runs", t.Iterations),
            ("tokens_per_s", tokens / t.MedianSeconds), ("best_tokens_per_s", tokens / t.MinSeconds),
        ]);
    }

    private void Add(BenchReport report, int threads, string name, CaseTiming t) =>
        report.Add(Name, $"{name} @{threads}t",
        [
            ("threads", threads), ("median_ms", t.MedianSeconds * 1e3), ("min_ms", t.MinSeconds * 1e3), ("runs", t.Iterations), .. t.PeerMetrics(),
        ]);
}
