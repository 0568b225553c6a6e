using Loom.Autograd;
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

    /// <summary>
    /// A model, a fixed batch and the peer's case name; language models flatten [B, T, V] logits for the loss (a GPT computes it with its head, Gpt.Loss). Flops:
    /// the step's nominal floating-point operations (0: not reported, unless CountFlops counts them from the model's
    /// convolutions and linear layers); Threads: the only thread count the case runs at; StepsPerEpoch: when set, the
    /// step times are also given as the time of an epoch of that many steps (the epoch-time bar).
    /// </summary>
    private sealed record Case(string Name, string PeerCase, Func<Module<Tensor, Tensor>> Model, Tensor Inputs, Tensor Targets, bool Sequence = false,
        double Flops = 0, int? Threads = null, bool DecoupledDecay = false, bool CountFlops = false, int StepsPerEpoch = 0);

    /// <summary>Fashion-MNIST's training steps per epoch at batch 128 (`loom train` holds out 10 % of the 60,000 for validation).</summary>
    private const int FashionMnistSteps = (54_000 + 127) / 128;

    /// <summary>
    /// Multiply-add FLOPs of one training step's convolutions and linear layers: 2·MACs forward, counted from the
    /// shapes one forward pass produces, times 3 (forward, input gradient, weight gradient), the usual convention.
    /// Normalisation, activations and the optimiser are left out, so GFLOP/s is a slight understatement.
    /// </summary>
    private static double TrainingFlops(Module<Tensor, Tensor> model, Tensor inputs)
    {
        double forward = 0;
        var hooks = new List<HookHandle>();
        foreach (var module in model.Modules())
        {
            if (module is Conv2d conv)
                hooks.Add(conv.RegisterForwardHook((_, _, output) =>
                    forward += 2.0 * ((Tensor)output).Shape.Numel * (conv.InChannels / conv.Groups) * conv.KernelSize.H * conv.KernelSize.W));
            else if (module is Linear linear)
                hooks.Add(linear.RegisterForwardHook((_, _, output) => forward += 2.0 * ((Tensor)output).Shape.Numel * linear.InFeatures));
        }
        using (new Loom.Autograd.NoGrad()) model.Forward(inputs);
        foreach (var h in hooks) h.Remove();
        return 3 * forward;
    }

    /// <summary>
    /// A GPT step's nominal FLOPs: forward GEMMs (the four projections of each block, Q·Kᵀ and A·V over all T×T scores
    /// as the unfused peer computes them, the tied logits) times 3 for forward + backward, as the issue counts it.
    /// </summary>
    private static double GptFlops(GptConfig c, int batch, int tokens)
    {
        double rows = (double)batch * tokens;
        double perLayer = 2 * rows * 12.0 * c.Dim * c.Dim + 2 * 2.0 * batch * tokens * tokens * c.Dim;
        return 3 * (c.Layers * perLayer + 2 * rows * c.Dim * c.Vocab);
    }

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
        yield return new Case("resnet-mini 1x28x28, batch 128", "trainstep/resnet-mini", () => new ResNet(ResNetConfig.Mini, 1, 10),
            Tensor.Randn(new Shape(128, 1, 28, 28), g), Tensor.Randint(0, 10, new Shape(128), g), CountFlops: true, StepsPerEpoch: FashionMnistSteps);
        var gpt = new GptConfig(GeluTanh: false); // the peer uses F.gelu's exact form
        yield return new Case("gpt 4L d256 h4 T128 V4096, batch 8", "trainstep/gpt", () => new Gpt(gpt),
            Tensor.Randint(0, 4096, new Shape(8, 128), g), Tensor.Randint(0, 4096, new Shape(8, 128), g), Sequence: true, Flops: GptFlops(gpt, 8, 128));
        yield return new Case("lstm in64 h256 T50, batch 32", "trainstep/lstm", () => new LstmClassifier(),
            Tensor.Randn(new Shape(32, 50, 64), g), Tensor.Randint(0, 10, new Shape(32), g));
        // llm.c's reference shape: GPT-2 124M, B 4, T 64, AdamW, 2 threads; FLOPs as llm.c counts them, 6·N·tokens.
        var gpt2 = GptConfig.Preset("gpt2", 50257);
        const double gpt2Parameters = 124_439_808; // wte, wpe, 12 blocks, ln_f (tied head)
        yield return new Case("gpt2-124m B4 T64 AdamW", "trainstep/gpt2-124m", () => new Gpt(gpt2),
            Tensor.Randint(0, 50257, new Shape(4, 64), g), Tensor.Randint(0, 50257, new Shape(4, 64), g), Sequence: true,
            Flops: 6 * gpt2Parameters * 4 * 64, Threads: 2, DecoupledDecay: true);
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
        MachineLimits? limits = null;
        foreach (int threads in options.ThreadCounts)
        {
            Threads.Count = threads;
            foreach (var c in Cases())
            {
                if (!options.Includes(c.Name) || c.Threads is int only && only != threads) continue;
                PeakResidentMemory.Reset();
                var (model, optimizer) = Build(c);
                OpProfiler? profiler = null;
                void Step() => TrainStep(c, model, optimizer, profiler);
                var peer = report.Peers.Setup("torch", c.PeerCase, threads, warmup: 5);
                var t = CaseTimer.Time(Step, peer, options, warmup: Warmup(c), minIterations: MinSteps(c, options), budgetSeconds: options.Quick ? 0.5 : 3);
                const int allocSteps = 10;
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < allocSteps; i++) Step();
                double bytesPerStep = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)allocSteps;
                var metrics = new List<(string, object)>
                {
                    ("threads", threads), ("median_ms", t.MedianSeconds * 1e3), ("min_ms", t.MinSeconds * 1e3), ("steps", t.Iterations),
                    ("alloc_kb_per_step", bytesPerStep / 1024),
                };
                double flops = c.CountFlops ? TrainingFlops(model, c.Inputs) : c.Flops;
                if (flops > 0)
                {
                    double peak = AddRate(metrics, flops, 1 / t.MedianSeconds, threads, ref limits);
                    if (t.Comparison is { } cmp)
                    {
                        double peerGflops = flops / cmp.PeerMedianSeconds / 1e9;
                        metrics.AddRange([("peer_gflops", peerGflops), ("peer_of_peak", peerGflops / peak)]);
                    }
                }
                if (c.StepsPerEpoch > 0)
                {
                    metrics.AddRange([("steps_per_epoch", c.StepsPerEpoch), ("epoch_s", c.StepsPerEpoch * t.MedianSeconds)]);
                    if (t.Comparison is { } cmp) metrics.Add(("peer_epoch_s", c.StepsPerEpoch * cmp.PeerMedianSeconds));
                }
                if (PeakResidentMemory.Read() is long rss) metrics.Add(("peak_rss_mb", rss / 1048576.0));
                report.Add(Name, $"{c.Name} @{threads}t", [.. metrics, .. t.PeerMetrics()]);
                if (options.Profile)
                {
                    const int profiled = 10;
                    using (profiler = OpProfiler.Start())
                    {
                        for (int i = 0; i < profiled; i++) Step();
                        Console.Out.WriteLine($"profile of {c.Name} @{threads}t, {profiled} steps:");
                        Console.Out.Write(profiler.Format(profiled));
                    }
                    profiler = null;
                }
            }
        }
        if (options.Copies >= 2)
            foreach (var c in Cases())
                if (options.Includes(c.Name)) RunCopies(c, options.Copies, report, options, ref limits);
    }

    private static (Module<Tensor, Tensor> Model, Optimizer Optimizer) Build(Case c)
    {
        Generator.ManualSeed(1);
        var model = c.Model();
        return (model, c.DecoupledDecay ? new AdamW(model.Parameters(), 1e-4) : new Adam(model.Parameters(), 1e-3));
    }

    /// <summary>
    /// Adds GFLOP/s and its fraction of the FMA peak at <paramref name="threads"/> (probed again if the rate comes out above
    /// it) to <paramref name="metrics"/>; returns the peak it divided by.
    /// </summary>
    private static double AddRate(List<(string, object)> metrics, double flops, double stepsPerSecond, int threads, ref MachineLimits? limits)
    {
        limits ??= MachineLimits.Measure();
        double gflops = flops * stepsPerSecond / 1e9, peak = limits.FmaPeak(threads);
        if (gflops > peak) peak = limits.RemeasureFmaPeak(threads);
        metrics.AddRange([("gflop_per_step", flops / 1e9), ("gflops", gflops), ("of_peak", gflops / peak), ("peak_gflops", peak)]);
        return peak;
    }

    /// <summary>A big step (GPT-2) is warmed up and timed fewer times.</summary>
    private static int Warmup(Case c) => c.Flops > 1e11 ? 2 : 5;

    private static int MinSteps(Case c, BenchOptions options) => options.Quick || c.Flops > 1e11 ? 5 : 20;

    /// <summary>One training step as the trainer runs it: zero the gradients, forward and loss, backward, optimizer step.</summary>
    private static void TrainStep(Case c, Module<Tensor, Tensor> model, Optimizer optimizer, OpProfiler? profiler)
    {
        using var scope = new MemoryScope();
        optimizer.ZeroGrad(setToNone: false);
        profiler?.Mark("zero_grad");
        Tensor loss;
        if (model is Gpt gpt) loss = gpt.Loss(c.Inputs, c.Targets); // the tied head and the loss as one op (Functional.LinearCrossEntropy)
        else
        {
            var output = model.Forward(c.Inputs);
            loss = c.Sequence
                ? Functional.CrossEntropy(output.Reshape(-1, output.Shape[^1]), c.Targets.Reshape(-1))
                : Functional.CrossEntropy(output, c.Targets);
        }
        profiler?.Mark("forward (not in an op)");
        loss.Backward();
        profiler?.Mark("backward (after the last node)");
        optimizer.Step();
        profiler?.Mark("optimizer step");
    }

    /// <summary>
    /// The case as <paramref name="copies"/> independent 1-thread steps at once, each its own model, optimizer and thread
    /// (the figures are each copy's median step; the rate is the sum of the copies' rates).
    /// Every timed step runs while all copies are stepping (a copy done with its own count keeps stepping untimed until the
    /// last is done), so the summed rate is what the cores deliver together: the ceiling of a step split over that many
    /// threads, which shares the same caches and memory and adds its own waits on top.
    /// </summary>
    private void RunCopies(Case c, int copies, BenchReport report, BenchOptions options, ref MachineLimits? limits)
    {
        int threadsBefore = Threads.Count;
        Threads.Count = 1;
        var built = Enumerable.Range(0, copies).Select(_ => Build(c)).ToArray();
        int warmup = Warmup(c), steps = MinSteps(c, options);
        var medians = new double[copies];
        int done = 0;
        using var start = new Barrier(copies);
        var workers = Enumerable.Range(0, copies).Select(k => new Thread(() =>
        {
            var (model, optimizer) = built[k];
            start.SignalAndWait();
            for (int i = 0; i < warmup; i++) TrainStep(c, model, optimizer, null);
            medians[k] = Timing.Round(() => TrainStep(c, model, optimizer, null), steps).MedianSeconds;
            Interlocked.Increment(ref done);
            while (Volatile.Read(ref done) < copies) TrainStep(c, model, optimizer, null);
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        Threads.Count = threadsBefore;

        double stepsPerSecond = medians.Sum(m => 1 / m);
        var metrics = new List<(string, object)>
        {
            ("threads", copies), ("copies", copies), ("slowest_copy_ms", medians.Max() * 1e3), ("fastest_copy_ms", medians.Min() * 1e3),
            ("steps", steps), ("steps_per_s", stepsPerSecond),
        };
        double flops = c.CountFlops ? TrainingFlops(built[0].Model, c.Inputs) : c.Flops;
        if (flops > 0) AddRate(metrics, flops, stepsPerSecond, copies, ref limits);
        report.Add(Name, $"{c.Name} @1t x{copies} copies", [.. metrics]);
    }
}

/// <summary>
/// The process's peak resident set (Linux: VmHWM), reset before a case by writing 5 to /proc/self/clear_refs, so the
/// figure is the case's own high-water mark plus whatever the process already held.
/// </summary>
internal static class PeakResidentMemory
{
    public static void Reset()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Bytes, or null where /proc is not there.</summary>
    public static long? Read()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0]) * 1024;
        }
        catch (IOException) { }
        return null;
    }
}
