using System.Text.Json.Nodes;
using Loom.Bench.Comparison;
using Loom.Bench.Peers;

namespace Loom.Bench.Distributed;

/// <summary>
/// Gradient all-reduce bandwidth between 2 ranks through Loom's DistributedDataParallel bucket path, against the MPI
/// library's own <c>MPI_Allreduce</c> of the same number of bytes called from mpi4py (no Loom code), in interleaved
/// rounds of two long-lived jobs. Bandwidths as nccl-tests define them: algorithm bandwidth = bytes / time, bus
/// bandwidth = algorithm bandwidth · 2(n−1)/n (what each rank's link carries in a ring). The bar: Loom ≥ 0.9× MPI.
/// Two Loom rows per size: "ddp", DistributedDataParallel.SynchronizeGradients of one bucket after an untimed
/// backward (what a step pays for its last bucket), and "collective", Loom's Communicator.AllReduce alone.
/// The MPI peer always runs (it is the point of the row); without mpi4py Loom is measured alone.
/// </summary>
public sealed class AllReduceBench : IBenchmark
{
    private const int Ranks = 2;

    public string Suite => "distributed";

    public string Name => "allreduce";

    public void Run(BenchReport report, BenchOptions options)
    {
        if (MpiJobs.Refused(report, Name)) return;
        using var jobs = new MpiJobs();
        var loom = jobs.Loom(Ranks, threads: null); // unbound, as the mpi4py job it is held against
        PeerProcess? mpi = null;
        try
        {
            mpi = jobs.MpiPeer(Ranks);
        }
        catch (PeerException e)
        {
            report.Log.WriteLine($"allreduce: the MPI peer did not start ({e.Message}; apt-get install python3-mpi4py); measuring Loom alone");
        }
        long[] sizes = options.Quick ? [256 << 10, 4 << 20] : [256 << 10, 4 << 20, 25 << 20, 100 << 20];
        foreach (long bytes in sizes)
        foreach (var (path, @case) in Paths)
        {
            string name = $"{path}, {Ranks} ranks, {Megabytes(bytes)}";
            if (!options.Includes(name)) continue;
            var parameters = new JsonObject { ["bytes"] = bytes };
            var loomCase = loom.Setup(@case, 1, parameters, warmup: 5);
            var peerCase = mpi?.Setup("allreduce", 1, parameters, warmup: 5);
            CaseTiming t;
            if (peerCase is null)
            {
                var (median, min, iterations) = MeasureAlone(loomCase, options);
                t = new CaseTiming(median, min, iterations, null, null);
            }
            else
            {
                var comparison = Interleaved.Run(loomCase.Run, loomCase.StepSeconds, peerCase.Run, peerCase.StepSeconds, options.ComparisonSettings);
                t = new CaseTiming(comparison.LoomMedianSeconds, comparison.Loom.Min(r => r.MinSeconds), comparison.Loom.Sum(r => r.Iterations), "mpi4py MPI_Allreduce", comparison);
            }
            double algorithm = bytes / t.MedianSeconds / 1e9, bus = algorithm * 2 * (Ranks - 1) / Ranks;
            var metrics = new List<(string, object)>
            {
                ("ranks", Ranks), ("bytes", bytes), ("median_ms", t.MedianSeconds * 1e3), ("min_ms", t.MinSeconds * 1e3), ("steps", t.Iterations),
                ("algbw_gb_s", algorithm), ("busbw_gb_s", bus),
            };
            if (t.Comparison is { } c)
            {
                double peerAlgorithm = bytes / c.PeerMedianSeconds / 1e9;
                // Bandwidth ratio Loom/MPI is the inverse of the time ratio, round by round.
                metrics.AddRange([("mpi_algbw_gb_s", peerAlgorithm), ("mpi_busbw_gb_s", peerAlgorithm * 2 * (Ranks - 1) / Ranks),
                    ("of_mpi", 1 / c.Ratio.Median), ("of_mpi_q1", 1 / c.Ratio.Q3), ("of_mpi_q3", 1 / c.Ratio.Q1), ("meets_0_9", 1 / c.Ratio.Median >= 0.9)]);
            }
            report.Add(Name, name, [.. metrics, .. t.PeerMetrics()]);
        }
    }

    // "ddp": DistributedDataParallel.SynchronizeGradients of one bucket after an untimed backward; "collective":
    // Communicator.AllReduce (the library's blocking MPI_Allreduce under Loom's timeout watchdog).
    private static readonly (string Path, string Case)[] Paths = [("ddp", "allreduce"), ("collective", "iallreduce")];

    private static (double Median, double Min, int Iterations) MeasureAlone(PeerCase loom, BenchOptions options)
    {
        var rounds = Enumerable.Range(0, options.ComparisonSettings.Rounds)
            .Select(_ => loom.Run(Interleaved.IterationsFor(loom.StepSeconds, options.ComparisonSettings.RoundSeconds))).ToList();
        return (RatioSummary.Quantile(rounds.Select(r => r.MedianSeconds).Order().ToArray(), 0.5), rounds.Min(r => r.MinSeconds), rounds.Sum(r => r.Iterations));
    }

    private static string Megabytes(long bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MB" : $"{bytes >> 10} KB";
}
