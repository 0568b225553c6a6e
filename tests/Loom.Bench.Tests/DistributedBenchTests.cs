using Loom.Bench.Distributed;
using Loom.Distributed;
using Loom.Testing;

namespace Loom.Bench.Tests;

/// <summary>
/// The all-reduce row of `loom bench distributed` end to end on its smallest case: two 2-rank MPI jobs (Loom's ranks
/// serving the peer protocol, and MPI's own MPI_Allreduce through mpi4py), or a refusal where no empty network
/// namespace can be made.
/// </summary>
public class DistributedBenchTests
{
    private static bool Mpi4PyInstalled => Directory.Exists("/usr/lib/python3/dist-packages/mpi4py");

    [MpiFact]
    public void The_allreduce_row_measures_Loom_against_MPI_in_jobs_inside_an_empty_network_namespace()
    {
        var log = new StringWriter();
        var options = new BenchOptions(Quick: true, ThreadCounts: [1]) { Cases = ["256 KB"] };
        var report = new BenchReport(log, null, options.ComparisonSettings);
        new AllReduceBench().Run(report, options);
        var rows = report.Results.OfType<JsonObject>().ToList();
        if (!MpiLauncher.CanIsolateNetwork)
        {
            // Nothing may listen on the machine's network: the benchmark says why and starts no job.
            Assert.Contains("network namespace", (string)rows.Single()["error"]!);
            return;
        }
        Assert.True(rows.Count == 2, log.ToString());
        Assert.Equal(["ddp, 2 ranks, 256 KB", "collective, 2 ranks, 256 KB"], rows.Select(r => (string)r["case"]!));
        foreach (var row in rows)
        {
            Assert.Equal(256 << 10, (long)row["bytes"]!);
            // 2 ranks: the bus carries what the algorithm moves, 2(n−1)/n = 1.
            Assert.Equal((double)row["algbw_gb_s"]!, (double)row["busbw_gb_s"]!, 12);
            Assert.InRange((double)row["busbw_gb_s"]!, 1e-4, 1e3);
            if (InstalledData.Required || Mpi4PyInstalled)
            {
                Assert.True(row["of_mpi"] is not null, $"no MPI peer ran (apt-get install python3-mpi4py):\n{log}");
                Assert.Equal(3, (int)row["rounds"]!);
            }
        }
    }

    [MpiFact]
    public void The_training_loop_row_alternates_blocks_of_the_CLIs_real_loop_on_one_and_two_ranks()
    {
        var log = new StringWriter();
        var options = new BenchOptions(Quick: true, ThreadCounts: [1]) { Cases = ["training loop"] };
        var report = new BenchReport(log, null, options.ComparisonSettings);
        new DataParallelBench().Run(report, options);
        var row = report.Results.OfType<JsonObject>().Single();
        if (!MpiLauncher.CanIsolateNetwork)
        {
            Assert.Contains("network namespace", (string)row["error"]!);
            return;
        }
        if (!InstalledData.Required && !Loom.Data.FashionMnist.IsAvailable())
        {
            Assert.Contains("Fashion-MNIST", (string)row["error"]!);
            return;
        }
        Assert.True(row["error"] is null, log.ToString());
        Assert.Equal("cnn fashion-mnist, the CLI's training loop over the data, global batch 64", (string)row["case"]!);
        Assert.Equal(10, (int)row["steps_per_block"]!);
        foreach (var configuration in new[] { "1x1", "2x1", "1x2" })
            Assert.InRange((double)row[$"samples_per_s_{configuration}"]!, 1, 1e6);
        // One ratio per round, each taken from blocks that ran one after another. Only its sign and finiteness are
        // behaviour: on a machine loaded 10× over its cores a starved block has read 0.017, so a floor on the ratio
        // tests the host, not the benchmark.
        var rounds = row["speedup_2x1_over_1x1_rounds"]!.AsArray();
        Assert.Equal(options.ComparisonSettings.Rounds, rounds.Count);
        Assert.All(rounds, r => Assert.True(double.IsFinite((double)r!) && (double)r! > 0, $"speed-up {r} is not a positive number"));
    }
}
