namespace Loom.Distributed.Tests;

/// <summary>The MPI binding and DDP's bucketed gradient all-reduce, run as real ranks, against locally computed sums.</summary>
public class CollectiveTests
{
    [MpiFact]
    public void Three_ranks_all_reduce_broadcast_and_bucketed_gradients_match_the_reference_sum()
    {
        var job = MpiJob.Run(3, ["collectives"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal("3", job.Results["size"]);
        // float32 sums of three N(0,1) values: a few ulps of error at most.
        foreach (var n in new[] { 0, 1, 17, 100_003 }) Assert.InRange(job.Number($"allreduce{n}.maxerr"), 0, 1e-5);
        Assert.InRange(job.Number("async.maxerr"), 0, 1e-5);
        for (int step = 0; step < 3; step++)
        {
            Assert.InRange(job.Number($"ddp.step{step}.maxerr"), 0, 1e-6);
            // Overlap: buckets whose gradients were ready started their all-reduce during backward.
            Assert.InRange(job.Number($"ddp.step{step}.launchedDuringBackward"), 2, double.MaxValue);
        }
        Assert.InRange(job.Number("ddp.buckets"), 3, 10);
    }

    [MpiFact]
    public void A_rank_waiting_for_a_late_one_sleeps_instead_of_spinning()
    {
        var job = MpiJob.Run(2, ["idle-wait"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        foreach (var collective in new[] { "barrier", "bucket" })
        {
            // Rank 0 did wait for the late rank…
            Assert.InRange(job.Number($"{collective}.wait_s"), 0.75 * Host.IdleWait.LateSeconds, 30);
            // …without spinning: a busy-polling wait (the library's blocking all-reduce, or a sched_yield loop) costs
            // about a CPU-second per second of waiting on an idle core; a sleeping poll costs a few percent.
            Assert.InRange(job.Number($"{collective}.cpu_s"), 0, 0.15 * Host.IdleWait.LateSeconds);
        }
    }
}
