using System.Diagnostics;
using Loom.Data;

namespace Loom.Bench;

/// <summary>
/// Input pipeline throughput on the embedded digits (8,000 training images, batch 128): plain batching (row gather),
/// and batching with a RandomAffine augmentation while the consumer "trains" for a fixed time per batch. With
/// prefetch the augmentation overlaps the consumer, so an epoch should take about max(load, compute) rather than
/// their sum; "overlap" reports (sync time − prefetch time) / min(load, compute), 1 meaning perfect hiding.
/// </summary>
public sealed class DataLoaderBenchmark : IBenchmark
{
    public string Suite => "train";

    public string Name => "dataloader";

    public void Run(BenchReport report, BenchOptions options)
    {
        var train = Digits.Load().Train;
        const int batch = 128;

        foreach (int prefetch in new[] { 0, 2 })
        {
            var loader = new DataLoader<Sample>(train, batch, shuffle: true, prefetch: prefetch);
            var (median, _, _) = Timing.Measure(() => { foreach (var b in loader) _ = b.Size; }, warmup: 1, minIterations: options.Quick ? 2 : 5, budgetSeconds: options.Quick ? 0.5 : 2);
            report.Add(Name, $"digits gather b{batch} prefetch{prefetch}", ("samples_per_s", train.Count / median), ("epoch_ms", median * 1e3));
        }

        var augmented = train.WithTransform(new RandomAffine(10, (0.1, 0.1), (0.9, 1.1), seed: 1));
        double loadOnly = EpochSeconds(new DataLoader<Sample>(augmented, batch, shuffle: true, prefetch: 0), 0);
        double computePerBatch = loadOnly / ((train.Count + batch - 1) / batch); // a consumer as slow as the loader: the hardest case to hide
        double sync = EpochSeconds(new DataLoader<Sample>(augmented, batch, shuffle: true, prefetch: 0), computePerBatch);
        double pre = EpochSeconds(new DataLoader<Sample>(augmented, batch, shuffle: true, prefetch: 2), computePerBatch);
        report.Add(Name, $"digits affine b{batch} load only", ("epoch_ms", loadOnly * 1e3), ("samples_per_s", train.Count / loadOnly));
        report.Add(Name, $"digits affine b{batch} + equal compute", ("sync_ms", sync * 1e3), ("prefetch_ms", pre * 1e3), ("overlap", (sync - pre) / loadOnly));
    }

    /// <summary>One epoch, the consumer spinning <paramref name="computeSeconds"/> per batch (a stand-in for a training step).</summary>
    private static double EpochSeconds(DataLoader<Sample> loader, double computeSeconds)
    {
        foreach (var _ in loader.Take(2)) { } // warm up the JIT and the pool
        long start = Stopwatch.GetTimestamp();
        foreach (var b in loader)
        {
            long t0 = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(t0).TotalSeconds < computeSeconds) Thread.SpinWait(50);
        }
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
