namespace Loom.Bench;

/// <summary>"machine": the FMA peak and memory bandwidth other benchmarks are measured against, at each thread count of the run.</summary>
public sealed class MachineLimitsBench : IBenchmark
{
    public string Suite => "kernels";
    public string Name => "machine";

    public void Run(BenchReport report, BenchOptions options)
    {
        var limits = MachineLimits.Measure();
        foreach (int threads in options.ThreadCounts)
            report.Add(Name, $"fp32 fma peak threads={threads}", ("gflops", limits.FmaPeak(threads)));
        foreach (int threads in options.ThreadCounts)
            report.Add(Name, $"memory read threads={threads}", ("gbps", limits.ReadBandwidth(threads)));
        foreach (int threads in options.ThreadCounts)
            report.Add(Name, $"memory copy threads={threads}", ("gbps", limits.CopyBandwidth(threads)));
    }
}
