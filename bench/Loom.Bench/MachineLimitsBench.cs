namespace Loom.Bench;

/// <summary>"machine": the FMA peak and memory bandwidth other benchmarks are measured against.</summary>
public sealed class MachineLimitsBench : IBenchmark
{
    public string Suite => "kernels";
    public string Name => "machine";

    public void Run(BenchReport report, BenchOptions options)
    {
        var limits = MachineLimits.Measure();
        foreach (var (threads, gflops) in limits.FmaGflops.OrderBy(kv => kv.Key))
            report.Add(Name, $"fp32 fma peak threads={threads}", ("gflops", gflops));
        foreach (var (threads, gbps) in limits.ReadGBps.OrderBy(kv => kv.Key))
            report.Add(Name, $"memory read threads={threads}", ("gbps", gbps));
        foreach (var (threads, gbps) in limits.CopyGBps.OrderBy(kv => kv.Key))
            report.Add(Name, $"memory copy threads={threads}", ("gbps", gbps));
    }
}
