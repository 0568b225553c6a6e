using System.Globalization;
using System.Text.Json.Nodes;
using Loom.Bench.Comparison;
using Loom.Bench.Peers;

namespace Loom.Bench.Distributed;

/// <summary>
/// Training throughput of ranks against threads, for the GPT step of the train suite and the CLI's Fashion-MNIST CNN,
/// in three sets, each its own row, because "2 ranks are 1.7× faster" means different things under different
/// definitions:
/// <list type="bullet">
/// <item><b>strong scaling</b> (the global batch fixed): 1 rank × 1 thread, 2 ranks × 1 thread (DistributedDataParallel,
/// half the batch each) and 1 rank × 2 threads (intra-op parallel kernels) on the same global batch;</item>
/// <item><b>weak scaling</b> (the batch per worker fixed, as Horovod's and the PyTorch DDP paper's throughput figures
/// are): 1 × 1 on batch b, 2 × 1 on b per rank (global 2b), and 1 × 2 on 2b;</item>
/// <item><b>memory system</b> (no communication at all): one rank alone, and two independent ranks training at once,
/// at the strong set's per-rank batch b/2 and at the full batch b: what the ranks' computation alone loses by sharing
/// the machine, and (one rank at b/2 against b) what halving the batch costs the kernels.</item>
/// </list>
/// Each configuration is its own long-lived MPI job; every round times one block of each configuration of a set, the
/// order rotating from round to round, so that all see the same background load. The ratios, in samples per second,
/// are taken per round; a row reports their medians over rounds with quartiles and spread, as the peer comparisons
/// do. The 1-minute load average before each set is recorded: on a loaded machine only the ratios mean anything.
/// </summary>
public sealed class DataParallelBench : IBenchmark
{
    public string Suite => "distributed";

    public string Name => "dataparallel";

    private const double WarmupSeconds = 4;

    /// <param name="Batch">Samples per rank.</param>
    /// <param name="Independent">Ranks train their own replicas with no gradient sync (the memory-system set).</param>
    private sealed record Configuration(string Name, int Ranks, int Threads, int Batch, bool Independent = false,
        IReadOnlyDictionary<string, string>? Environment = null)
    {
        public int Samples => Ranks * Batch;
    }

    /// <summary>
    /// A reported ratio: <paramref name="Faster"/>'s samples per second over <paramref name="Slower"/>'s, the job's
    /// (all ranks together) or, with <paramref name="PerRank"/>, one rank's.
    /// </summary>
    private sealed record Ratio(string Key, string Faster, string Slower, bool PerRank = false);

    /// <param name="StepsPerBlock">With a value, each timed iteration is a block of that many training steps, one block
    /// per configuration and round (the real training loop, whose step is too short and too uneven to time alone).</param>
    private sealed record Set(string Kind, string Title, Configuration[] Configurations, Ratio[] Ratios, (string Key, object Value)[] Facts,
        int? StepsPerBlock = null);

    // The CLI's real training loop in blocks of this many steps: 1 rank takes ~3 s a block, 2 ranks ~1.7 s (quiet).
    private const int TrainerLoopSteps = 120;

    // LOOM_BENCH_VARIANTS="name:KEY=VALUE,KEY=VALUE;name2:…" adds a 2 × 1 job per variant, with those variables in
    // its ranks' environment, to the strong-scaling and training-loop sets: A/B of a setting inside one run, each
    // variant's blocks alternating with the others'. LOOM_BIND=none leaves the variant's ranks unbound (MpiJobs).
    private static (string Name, Dictionary<string, string> Environment)[] Variants() =>
        [.. (System.Environment.GetEnvironmentVariable("LOOM_BENCH_VARIANTS") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(v =>
        {
            var (name, rest) = (v[..v.IndexOf(':')], v[(v.IndexOf(':') + 1)..]);
            var env = rest.Split(',', StringSplitOptions.RemoveEmptyEntries).ToDictionary(kv => kv[..kv.IndexOf('=')], kv => kv[(kv.IndexOf('=') + 1)..]);
            env["LOOM_BENCH_VARIANT"] = name;
            return (name, env);
        })];

    private static Set WithVariants(Set set, int batch)
    {
        var variants = Variants();
        if (variants.Length == 0) return set;
        return set with
        {
            Configurations = [.. set.Configurations, .. variants.Select(v => new Configuration($"2x1/{v.Name}", 2, 1, batch / 2, Environment: v.Environment))],
            Ratios = [.. set.Ratios, .. variants.SelectMany(v => new[]
            {
                new Ratio($"speedup_2x1/{v.Name}_over_1x1", $"2x1/{v.Name}", "1x1"),
                new Ratio($"2x1/{v.Name}_over_2x1", $"2x1/{v.Name}", "2x1"),
            })],
        };
    }

    private static Set TrainerLoop(int batch, int steps) => WithVariants(TrainerLoopWithoutVariants(batch, steps), batch);

    private static Set TrainerLoopWithoutVariants(int batch, int steps) =>
        new("trainer loop", $"the CLI's training loop over the data, global batch {batch}",
            [new("1x1", 1, 1, batch), new("2x1", 2, 1, batch / 2), new("1x2", 1, 2, batch)],
            [new("speedup_2x1_over_1x1", "2x1", "1x1"), new("ranks_2x1_over_threads_1x2", "2x1", "1x2")],
            [("global_batch", batch), ("per_rank_batch_2x1", batch / 2), ("steps_per_block", steps)],
            StepsPerBlock: steps);

    private static Set[] Sets(int batch) => [.. SetsWithoutVariants(batch).Select(s => s.Kind == "strong" ? WithVariants(s, batch) : s)];

    private static Set[] SetsWithoutVariants(int batch) =>
    [
        new("strong", $"strong scaling, global batch {batch}",
            [new("1x1", 1, 1, batch), new("2x1", 2, 1, batch / 2), new("1x2", 1, 2, batch)],
            [new("speedup_2x1_over_1x1", "2x1", "1x1"), new("ranks_2x1_over_threads_1x2", "2x1", "1x2")],
            [("global_batch", batch), ("per_rank_batch_2x1", batch / 2)]),
        new("weak", $"weak scaling, batch {batch} per worker",
            [new("1x1", 1, 1, batch), new("2x1", 2, 1, batch), new("1x2", 1, 2, 2 * batch)],
            [new("speedup_2x1_over_1x1", "2x1", "1x1"), new("ranks_2x1_over_threads_1x2", "2x1", "1x2")],
            [("per_rank_batch", batch), ("global_batch_2x1", 2 * batch)]),
        new("memory", $"memory system, batch {batch / 2} and {batch} per rank, no communication",
            [new("alone_b/2", 1, 1, batch / 2), new("together_b/2", 2, 1, batch / 2, Independent: true),
             new("alone_b", 1, 1, batch), new("together_b", 2, 1, batch, Independent: true)],
            [
                // Each rank's speed when the other computes at the same time, against its speed alone (1 = no loss).
                new("per_rank_speed_together_over_alone_b/2", "together_b/2", "alone_b/2", PerRank: true),
                new("per_rank_speed_together_over_alone_b", "together_b", "alone_b", PerRank: true),
                // One rank's throughput at half the batch against the whole: what a smaller batch costs the kernels.
                new("throughput_b/2_over_b_alone", "alone_b/2", "alone_b"),
            ],
            [("batch", batch)]),
    ];

    public void Run(BenchReport report, BenchOptions options)
    {
        if (MpiJobs.Refused(report, Name)) return;
        (string Name, string Case, int Batch)[] cases =
        [
            ("gpt 4L d256 h4 T128 V4096", "trainstep/gpt", 8),
            ("cnn fashion-mnist", "cnn/fashion-mnist", 64),
        ];
        foreach (var (model, @case, batch) in cases)
            foreach (var set in Sets(batch))
            {
                string name = $"{model}, {set.Title}";
                if (options.Includes(name)) Measure(report, options, name, @case, set);
            }
        // The bar's epoch: `loom train --data fashion-mnist --model cnn --threads 1` against 2 ranks of it, in
        // alternating blocks of the same number of steps, so that the host's swings hit both (Note [Scaling], session 27).
        var loop = TrainerLoop(64, options.Quick ? 10 : TrainerLoopSteps);
        string loopName = $"cnn fashion-mnist, {loop.Title}";
        if (options.Includes(loopName)) Measure(report, options, loopName, "trainer/cnn/fashion-mnist", loop);
    }

    private void Measure(BenchReport report, BenchOptions options, string name, string @case, Set set)
    {
        using var jobs = new MpiJobs();
        double load = LoadAverage();
        var configurations = set.Configurations;
        var prepared = new Dictionary<Configuration, PeerCase>();
        try
        {
            foreach (var c in configurations)
            {
                var parameters = new JsonObject { ["per_rank_batch"] = c.Batch, ["independent"] = c.Independent };
                if (set.StepsPerBlock is int steps) parameters["steps"] = steps;
                // The CLI's loop runs as `loom launch` runs it: MPI's blocking calls spin unless the environment says otherwise.
                prepared[c] = jobs.Loom(c.Ranks, c.Threads, yieldWhenIdle: set.StepsPerBlock is null, c.Environment).Setup(@case, c.Threads, parameters, warmup: set.StepsPerBlock is null ? 3 : 1);
            }
        }
        catch (PeerException e)
        {
            report.Log.WriteLine($"dataparallel {name}: {e.Message}");
            report.Add(Name, name, ("error", e.Message));
            return;
        }
        // A GPT step takes 0.1–0.3 s: blocks of the default 0.4 s would hold 2–3 steps, whose median swings by 20 %.
        var settings = options.ComparisonSettings;
        if (!options.Quick) settings = settings with { RoundSeconds = Math.Max(settings.RoundSeconds, 1.5) };
        // Each job warms up alone, untimed, for a few seconds: three steps leave most of the step's methods to be
        // recompiled (tiered JIT, then PGO) on a background thread during the first rounds. One rank alone has an idle
        // core for that thread; two ranks have none, so the first rounds ran 2 × 1 at 0.8–1.0 × 1 × 1 and the later
        // ones at 1.6–1.9 × (session 24).
        int leastWarmup = set.StepsPerBlock is null ? 10 : 1;
        if (!options.Quick)
            foreach (var (c, job) in prepared) job.Run(Math.Max(leastWarmup, Interleaved.IterationsFor(job.StepSeconds, WarmupSeconds)));
        // A block of the training loop is timed whole, one per configuration and round.
        int Iterations(double seconds) => set.StepsPerBlock is null ? Interleaved.IterationsFor(seconds, settings.RoundSeconds) : 1;
        var iterations = prepared.ToDictionary(kv => kv.Key, kv => Iterations(kv.Value.StepSeconds));
        var rounds = configurations.ToDictionary(c => c, _ => new List<RoundTiming>());
        var ratios = set.Ratios.ToDictionary(r => r, _ => new List<double>());
        Configuration Named(string configuration) => configurations.First(c => c.Name == configuration);
        for (int round = 0; round < settings.Rounds; round++)
        {
            for (int k = 0; k < configurations.Length; k++)
            {
                var c = configurations[(round + k) % configurations.Length];
                rounds[c].Add(prepared[c].Run(iterations[c]));
                Thread.Sleep(20); // let the last job's spinning workers settle before the next block
            }
            double Throughput(string configuration, bool perRank)
            {
                var c = Named(configuration);
                return (perRank ? c.Batch : c.Samples) / rounds[c][round].MedianSeconds;
            }
            foreach (var r in set.Ratios) ratios[r].Add(Throughput(r.Faster, r.PerRank) / Throughput(r.Slower, r.PerRank));
            if (round == 0)
                foreach (var c in configurations) iterations[c] = Iterations(rounds[c][0].MedianSeconds);
        }
        var metrics = new List<(string, object)> { ("scaling", set.Kind) };
        metrics.AddRange(set.Facts);
        if (!double.IsNaN(load)) metrics.Add(("load_avg_1min", load));
        foreach (var c in configurations)
        {
            double median = RatioSummary.Quantile(rounds[c].Select(r => r.MedianSeconds).Order().ToArray(), 0.5) / (set.StepsPerBlock ?? 1);
            metrics.Add(($"samples_per_s_{c.Name}", c.Samples / median));
            metrics.Add(($"step_ms_{c.Name}", median * 1e3));
            // Where a step's time goes in each configuration (rank 0's view; means over rounds).
            foreach (var phase in rounds[c].FirstOrDefault().Phases?.Keys ?? [])
                metrics.Add(($"{phase}_ms_{c.Name}", rounds[c].Average(r => r.Phases![phase]) * 1e3));
        }
        foreach (var r in set.Ratios)
        {
            var summary = RatioSummary.Of(ratios[r], settings.MaxSpread);
            metrics.AddRange(Summary(r.Key, summary));
            if (r.Key == "speedup_2x1_over_1x1") metrics.Add(("meets_1_7", summary.Median >= 1.7));
        }
        report.Add(Name, name, [.. metrics]);
    }

    private static IEnumerable<(string, object)> Summary(string key, RatioSummary r) =>
    [
        (key, r.Median), ($"{key}_q1", r.Q1), ($"{key}_q3", r.Q3), ($"{key}_spread", r.Spread), ($"{key}_unstable", r.Unstable),
        ($"{key}_rounds", new JsonArray([.. r.Ratios.Select(x => (JsonNode)Math.Round(x, 4))])),
    ];

    // The machine's 1-minute load average (Linux), NaN elsewhere: the benchmark's own two cores' worth is about 1-2.
    private static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
