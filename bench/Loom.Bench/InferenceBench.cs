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

    private void Add(BenchReport report, int threads, string name, CaseTiming t) =>
        report.Add(Name, $"{name} @{threads}t",
        [
            ("threads", threads), ("median_ms", t.MedianSeconds * 1e3), ("min_ms", t.MinSeconds * 1e3), ("runs", t.Iterations), .. t.PeerMetrics(),
        ]);
}
