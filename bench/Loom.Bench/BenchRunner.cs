using Loom.Bench.Peers;

namespace Loom.Bench;

/// <summary>Finds the benchmarks of a suite, runs them and writes the JSON report.</summary>
public static class BenchRunner
{
    public static IReadOnlyList<IBenchmark> Discover(string suite) =>
        typeof(BenchRunner).Assembly.GetTypes()
            .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .Where(b => suite == "all" || b.Suite == suite)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>Runs the suite; returns the report (also written to <paramref name="jsonPath"/> when given).</summary>
    public static BenchReport Run(string suite, BenchOptions options, string? jsonPath, TextWriter log)
    {
        var benchmarks = Discover(suite).Where(b => options.Only is null || options.Only.Contains(b.Name)).ToList();
        if (benchmarks.Count == 0) throw new ArgumentException($"no benchmarks in suite '{suite}'" + (options.Only is null ? "" : $" named {string.Join(",", options.Only)}"));
        using var peers = new PeerSet(options.Peers, log);
        var report = new BenchReport(log, peers, options.ComparisonSettings);
        int saved = Threads.Count;
        try
        {
            foreach (var b in benchmarks) b.Run(report, options);
        }
        finally
        {
            Threads.Count = saved;
        }
        var unstable = report.UnstableCases().ToList();
        if (unstable.Count > 0)
        {
            log.WriteLine($"{unstable.Count} comparison(s) UNSTABLE: their per-round ratios spread more than " +
                $"{options.ComparisonSettings.MaxSpread:P0} (interquartile range over median), so the machine's load changed under them:");
            foreach (var c in unstable) log.WriteLine($"  {c}");
            log.WriteLine("rerun them on a quieter machine (bench/peers/run_quiet.sh waits for one), or with more --rounds");
        }
        if (jsonPath is not null)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
            if (dir is not null) Directory.CreateDirectory(dir);
            File.WriteAllText(jsonPath, report.ToJson());
            log.WriteLine($"wrote {jsonPath}");
        }
        return report;
    }
}
