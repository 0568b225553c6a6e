using System.Reflection;

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
        var report = new BenchReport(log);
        var benchmarks = Discover(suite).Where(b => options.Only is null || options.Only.Contains(b.Name)).ToList();
        if (benchmarks.Count == 0) throw new ArgumentException($"no benchmarks in suite '{suite}'" + (options.Only is null ? "" : $" named {string.Join(",", options.Only)}"));
        int saved = Threads.Count;
        try
        {
            foreach (var b in benchmarks) b.Run(report, options);
        }
        finally
        {
            Threads.Count = saved;
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
