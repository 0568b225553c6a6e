using System.Globalization;
using System.Text.RegularExpressions;
using Loom.Autograd;
using Loom.Models;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Inference as torch_bench.py's "infer" case measures it: MLP 784-512-512-10 at batch 1 without gradients, and greedy
/// generation of 64 tokens from the GPT at batch 1 with and without the key/value cache. With --peers, the PyTorch
/// figures come from the same run and ratios are reported (below 1: Loom is faster).
/// </summary>
public sealed partial class InferenceBench : IBenchmark
{
    public string Suite => "train";

    public string Name => "inference";

    public void Run(BenchReport report, BenchOptions options)
    {
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            Dictionary<string, double>? torch = null;
            if (options.Peers)
            {
                var run = Peers.RunScript("torch_bench.py", torch: true, timeout: TimeSpan.FromMinutes(5),
                    arguments: ["--only", "infer", "--threads", threads.ToString(CultureInfo.InvariantCulture)]);
                if (run.Error is not null) Console.WriteLine($"inference: PyTorch peer unavailable: {run.Error}");
                else torch = run.StandardOutput.Split('\n').Select(l => TorchLine().Match(l)).Where(m => m.Success)
                    .ToDictionary(m => m.Groups[1].Value.Trim(), m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            }
            Generator.ManualSeed(3);
            var mlp = new Sequential(new Linear(784, 512), new ReLU(), new Linear(512, 512), new ReLU(), new Linear(512, 10));
            mlp.Eval();
            var x = Tensor.Randn(1, 784);
            Add(report, threads, "mlp batch 1", Timing.Measure(() => { using var _ = new NoGrad(); mlp.Forward(x); }, warmup: 50, minIterations: 200, budgetSeconds: options.Quick ? 0.3 : 2),
                torch, "(a) MLP inference, batch 1, no_grad");
            var gpt = new Gpt(new GptConfig());
            gpt.Eval();
            var prompt = Tensor.Randint(0, 4096, new Shape(1, 1));
            int tokens = 64;
            Add(report, threads, "gpt generate 64, kv cache", Timing.Measure(() => gpt.Generate(prompt, tokens, useCache: true), warmup: 2, minIterations: 3, budgetSeconds: options.Quick ? 0.5 : 5),
                torch, "(c) GPT generate 64 tokens, batch 1, greedy, with kv cache");
            Add(report, threads, "gpt generate 64, no cache", Timing.Measure(() => gpt.Generate(prompt, tokens, useCache: false), warmup: 1, minIterations: 3, budgetSeconds: options.Quick ? 0.5 : 5),
                torch, "(c) GPT generate 64 tokens, batch 1, greedy, NO kv cache");
        }
    }

    private void Add(BenchReport report, int threads, string name, (double Median, double Min, int Iterations) t, Dictionary<string, double>? torch, string torchName)
    {
        var metrics = new List<(string, object)> { ("threads", threads), ("median_ms", t.Median * 1e3), ("min_ms", t.Min * 1e3), ("runs", t.Iterations) };
        if (torch is not null && torch.TryGetValue(torchName, out var ms))
        {
            metrics.Add(("torch_ms", ms));
            metrics.Add(("ratio_to_torch", t.Median * 1e3 / ms));
        }
        report.Add(Name, $"{name} @{threads}t", metrics.ToArray());
    }

    [GeneratedRegex(@"^(\(.*?)\s+median\s+([\d.]+) ms")]
    private static partial Regex TorchLine();
}
