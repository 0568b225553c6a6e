using System.Diagnostics;
using Loom.Bench.Comparison;

namespace Loom.Bench;

/// <summary>Warm-up then median timing, the one way every benchmark measures.</summary>
public static class Timing
{
    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times, then until both <paramref name="minIterations"/> runs and <paramref name="budgetSeconds"/> have passed; returns the median and minimum seconds per run.</summary>
    public static (double Median, double Min, int Iterations) Measure(Action action, int warmup = 3, int minIterations = 5, double budgetSeconds = 1.0, int maxIterations = 1000)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while ((times.Count < minIterations || total.Elapsed.TotalSeconds < budgetSeconds) && times.Count < maxIterations)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        times.Sort();
        return (times[times.Count / 2], times[0], times.Count);
    }

    /// <summary>Times each of <paramref name="iterations"/> runs of <paramref name="action"/>: one block of an interleaved comparison.</summary>
    public static RoundTiming Round(Action action, int iterations)
    {
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(times);
        return new RoundTiming(RatioSummary.Quantile(times, 0.5), times[0], iterations);
    }
}
