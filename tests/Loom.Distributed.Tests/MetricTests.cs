namespace Loom.Distributed.Tests;

/// <summary>Training metrics of a data-parallel epoch are those of the whole data: counts reduced across ranks.</summary>
public class MetricTests
{
    [MpiFact]
    public void Two_ranks_report_the_F1_precision_and_log_loss_of_one_process_on_all_the_data_and_share_out_validation()
    {
        var job = MpiJob.Run(2, ["metrics"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        foreach (var key in new[] { "f1_macro", "precision_micro", "log_loss", "val_loss", "val_f1_macro", "val_log_loss" })
            Assert.Equal(job.Number($"{key}.single"), job.Number($"{key}.distributed"), 12);
        // Validation is shared out: the 7 batches are evaluated once in all, rank 0 taking batches 0, 2, 4 and 6.
        Assert.Equal(7, job.Number("val.batches.all_ranks"));
        Assert.Equal(4, job.Number("val.batches.rank0"));
        // Rank 0's shard alone scores differently, so a metric left unreduced fails the equality above.
        Assert.True(Math.Abs(job.Number("f1_macro.shard0") - job.Number("f1_macro.single")) > 1e-3, job.ToString());
    }
}
