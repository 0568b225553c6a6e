namespace Loom.Distributed.Tests;

/// <summary>A rank that throws or hangs ends the whole job quickly with a message naming the rank and the cause.</summary>
public class FaultTests
{
    [MpiFact]
    public void A_throwing_rank_stops_the_job_within_seconds_naming_rank_and_cause()
    {
        var job = MpiJob.Run(3, ["throw"], TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, job.ExitCode);
        Assert.NotEqual(-1, job.ExitCode);
        Assert.Contains("rank 2 of 3 failed: InvalidOperationException: the test asked this rank to fail", job.Stderr);
        Assert.InRange(job.Elapsed.TotalSeconds, 0, 30);
    }

    [MpiFact]
    public void A_hung_rank_is_caught_by_the_collective_timeout()
    {
        var job = MpiJob.Run(2, ["hang"], TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["LOOM_TEST_TIMEOUT"] = "2" });
        Assert.NotEqual(0, job.ExitCode);
        Assert.NotEqual(-1, job.ExitCode);
        Assert.Contains("rank 0 of 2 failed: CollectiveTimeoutException: rank 0: MPI_Ibarrier did not complete within 2 s", job.Stderr);
        Assert.InRange(job.Elapsed.TotalSeconds, 0, 30);
    }

    [MpiFact]
    public void A_hung_rank_in_a_blocking_all_reduce_is_caught_by_the_watchdog()
    {
        var job = MpiJob.Run(2, ["hang", "allreduce"], TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["LOOM_TEST_TIMEOUT"] = "2" });
        Assert.NotEqual(0, job.ExitCode);
        Assert.NotEqual(-1, job.ExitCode);
        Assert.Contains("rank 0 of 2 failed: CollectiveTimeoutException: rank 0: MPI_Allreduce did not complete within 2 s", job.Stderr);
        Assert.InRange(job.Elapsed.TotalSeconds, 0, 30);
    }
}
