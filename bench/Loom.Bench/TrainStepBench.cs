using Loom.Bench.Comparison;
using Loom.Memory;
using Loom.Models;
using Loom.Nn;
using Loom.Random;

namespace Loom.Bench;

/// <summary>
/// Training-step time of the models the PyTorch peer (bench/peers/torch_peer.py) measures, with the same shapes: one
/// step is forward + cross-entropy + backward + Adam step, median after warm-up, inside a <see cref="MemoryScope"/> as
/// the trainer runs it. Also reports managed bytes allocated per step (target: under 1 MB for the MLP). With --peers,
/// each case alternates rounds with the same case in PyTorch and reports the Loom/PyTorch time ratio (below 1 means
/// Loom is faster).
/// </summary>
public sealed class TrainStepBench : IBenchmark
{
    public string Suite => "train";

    public string Name => "trainstep";

    /// <summary>A model, a fixed batch and the peer's case name; language models flatten [B, T, V] logits for the loss.</summary>
    private sealed record Case(string Name, string PeerCase, Func<Module<Tensor, Tensor>> Model, Tensor Inputs, Tensor Targets, bool Sequence = false);

    private static IEnumerable<Case> Cases()
    {
        var g = new Generator(0);
        yield return new Case("mlp 784-512-512-10, batch 128", "trainstep/mlp",
            () => new Sequential(new Linear(784, 512), new ReLU(), new Linear(512, 512), new ReLU(), new Linear(512, 10)),
            Tensor.Randn(new Shape(128, 784), g), Tensor.Randint(0, 10, new Shape(128), g));
        yield return new Case("lenet5 1x28x28, batch 64", "trainstep/lenet5",
            () => new Sequential(
                new Conv2d(1, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
                new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2), new Flatten(),
                new Linear(16 * 5 * 5, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10)),
            Tensor.Randn(new Shape(64, 1, 28, 28), g), Tensor.Randint(0, 10, new Shape(64), g));
        yield return new Case("gpt 4L d256 h4 T128 V4096, batch 8", "trainstep/gpt", () => new Gpt(new GptConfig(GeluTanh: false)), // the peer uses F.gelu's exact form
            Tensor.Randint(0, 4096, new Shape(8, 128), g), Tensor.Randint(0, 4096, new Shape(8, 128), g), Sequence: true);
        yield return new Case("lstm in64 h256 T50, batch 32", "trainstep/lstm", () => new LstmClassifier(),
            Tensor.Randn(new Shape(32, 50, 64), g), Tensor.Randint(0, 10, new Shape(32), g));
    }

    /// <summary>The peers' LSTMNet: LSTM(64 → 256), batch first, the last hidden state through Linear(256, 10).</summary>
    private sealed class LstmClassifier : Module<Tensor, Tensor>
    {
        private readonly LSTM _lstm;
        private readonly Linear _fc;

        public LstmClassifier()
        {
            _lstm = RegisterModule("lstm", new LSTM(64, 256, batchFirst: true));
            _fc = RegisterModule("fc", new Linear(256, 10));
        }

        protected override Tensor ForwardCore(Tensor input) => _fc.Forward(_lstm.Forward(input, null).State.H.Select(0, -1));
    }

    public void Run(BenchReport report, BenchOptions options)
    {
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var c in Cases())
            {
                Generator.ManualSeed(1);
                var model = c.Model();
                var optimizer = new Adam(model.Parameters(), 1e-3);
                void Step()
                {
                    using var scope = new MemoryScope();
                    optimizer.ZeroGrad(setToNone: false);
                    var output = model.Forward(c.Inputs);
                    var loss = c.Sequence
                        ? Functional.CrossEntropy(output.Reshape(-1, output.Shape[^1]), c.Targets.Reshape(-1))
                        : Functional.CrossEntropy(output, c.Targets);
                    loss.Backward();
                    optimizer.Step();
                }
                var peer = report.Peers.Setup("torch", c.PeerCase, threads, warmup: 5);
                var t = CaseTimer.Time(Step, peer, options, warmup: 5, minIterations: options.Quick ? 5 : 20, budgetSeconds: options.Quick ? 0.5 : 3);
                const int allocSteps = 10;
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < allocSteps; i++) Step();
                double bytesPerStep = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)allocSteps;
                report.Add(Name, $"{c.Name} @{threads}t",
                [
                    ("threads", threads), ("median_ms", t.MedianSeconds * 1e3), ("min_ms", t.MinSeconds * 1e3), ("steps", t.Iterations),
                    ("alloc_kb_per_step", bytesPerStep / 1024), .. t.PeerMetrics(),
                ]);
            }
        }
    }
}
