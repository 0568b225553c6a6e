using System.Globalization;
using System.Text.Json.Nodes;
using Loom.Bench.Comparison;
using Loom.Bench.Peers;

namespace Loom.Bench.Distributed;

/// <summary>
/// Training throughput of ranks against threads on the same global batch: 1 rank × 1 thread, 2 ranks × 1 thread
/// (DistributedDataParallel, half the batch each) and 1 rank × 2 threads (intra-op parallel kernels), for the GPT step
/// of the train suite and the CLI's Fashion-MNIST CNN. Each configuration is its own long-lived MPI job; every round
/// times one block of each, the order rotating from round to round, so that all three see the same background load.
/// Each round gives the ratios 2×1 / 1×1 (the bar: ≥ 1.7) and 2×1 / 1×2 in samples per second; the case reports their
/// medians over rounds with quartiles and spread, as the peer comparisons do. The 1-minute load average before the
/// case is recorded: on a loaded machine only the ratios mean anything.
/// </summary>
public sealed class DataParallelBench : IBenchmark
{
    public string Suite => "distributed";

    public string Name => "dataparallel";

    private sealed record Configuration(string Name, int Ranks, int Threads);

    private static readonly Configuration[] Configurations = [new("1x1", 1, 1), new("2x1", 2, 1), new("1x2", 1, 2)];

    public void Run(BenchReport report, BenchOptions options)
    {
        if (MpiJobs.Refused(report, Name)) return;
        using var jobs = new MpiJobs();
        var running = Configurations.ToDictionary(c => c, c => jobs.Loom(c.Ranks));
        (string Name, string Case, int GlobalBatch)[] cases =
        [
            ("gpt 4L d256 h4 T128 V4096, global batch 8", "trainstep/gpt", 8),
            ("cnn fashion-mnist, global batch 64", "cnn/fashion-mnist", 64),
        ];
        foreach (var (name, @case, globalBatch) in cases)
        {
            if (!options.Includes(name)) continue;
            double load = LoadAverage();
            var set = new Dictionary<Configuration, PeerCase>();
            try
            {
                foreach (var c in Configurations)
                    set[c] = running[c].Setup(@case, c.Threads, new JsonObject { ["global_batch"] = globalBatch }, warmup: 3);
            }
            catch (PeerException e)
            {
                report.Log.WriteLine($"dataparallel {name}: {e.Message}");
                report.Add(Name, name, ("error", e.Message));
                continue;
            }
            var settings = options.ComparisonSettings;
            var iterations = set.ToDictionary(kv => kv.Key, kv => Interleaved.IterationsFor(kv.Value.StepSeconds, settings.RoundSeconds));
            var rounds = Configurations.ToDictionary(c => c, _ => new List<RoundTiming>());
            var speedup = new List<double>();
            var ranksOverThreads = new List<double>();
            for (int round = 0; round < settings.Rounds; round++)
            {
                for (int k = 0; k < Configurations.Length; k++)
                {
                    var c = Configurations[(round + k) % Configurations.Length];
                    rounds[c].Add(set[c].Run(iterations[c]));
                    Thread.Sleep(20); // let the last job's spinning workers settle before the next block
                }
                double Step(string configuration) => rounds[Configurations.First(c => c.Name == configuration)][round].MedianSeconds;
                speedup.Add(Step("1x1") / Step("2x1"));
                ranksOverThreads.Add(Step("1x2") / Step("2x1"));
                if (round == 0)
                    foreach (var c in Configurations) iterations[c] = Interleaved.IterationsFor(rounds[c][0].MedianSeconds, settings.RoundSeconds);
            }
            var metrics = new List<(string, object)> { ("global_batch", globalBatch) };
            if (!double.IsNaN(load)) metrics.Add(("load_avg_1min", load));
            foreach (var c in Configurations)
            {
                double median = RatioSummary.Quantile(rounds[c].Select(r => r.MedianSeconds).Order().ToArray(), 0.5);
                metrics.Add(($"samples_per_s_{c.Name}", globalBatch / median));
                // Where a step's time goes in each configuration (rank 0's view; means over rounds).
                foreach (var phase in rounds[c].FirstOrDefault().Phases?.Keys ?? [])
                    metrics.Add(($"{phase}_ms_{c.Name}", rounds[c].Average(r => r.Phases![phase]) * 1e3));
            }
            metrics.AddRange(Summary("speedup_2x1_over_1x1", RatioSummary.Of(speedup, settings.MaxSpread)));
            metrics.Add(("meets_1_7", RatioSummary.Of(speedup, settings.MaxSpread).Median >= 1.7));
            metrics.AddRange(Summary("ranks_2x1_over_threads_1x2", RatioSummary.Of(ranksOverThreads, settings.MaxSpread)));
            report.Add(Name, name, [.. metrics]);
        }
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
