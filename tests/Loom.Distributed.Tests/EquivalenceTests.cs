namespace Loom.Distributed.Tests;

/// <summary>
/// Two ranks with batch b end 20 optimiser steps with the same weights (and batch-norm statistics) as one process with
/// batch 2b, to float32 rounding; the replicas are bit-identical (checked inside the job).
/// </summary>
public class EquivalenceTests
{
    [MpiTheory]
    [InlineData("mlp", "sgd")]
    [InlineData("mlp", "adam")]
    [InlineData("cnn", "sgd")]
    [InlineData("cnn", "adam")]
    [InlineData("lstm", "sgd")]
    [InlineData("lstm", "adam")]
    public void Two_ranks_with_batch_b_match_one_process_with_batch_2b(string model, string optimizer)
    {
        var job = MpiJob.Run(2, ["equivalence", model, optimizer]);
        Assert.True(job.ExitCode == 0, job.ToString());
        // The weights moved far more than the tolerance, so a wrong average (sum, or a rank's own gradient) fails.
        Assert.InRange(job.Number("moved"), 1e-2, double.MaxValue);
        Assert.InRange(job.Number("maxdiff"), 0, 5e-6 * Math.Max(1, job.Number("scale")));
    }

    [MpiFact]
    public void A_model_built_with_plain_batch_norm_and_converted_matches_one_process()
    {
        var job = MpiJob.Run(2, ["equivalence", "cnn-converted", "sgd"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.InRange(job.Number("moved"), 1e-2, double.MaxValue);
        Assert.InRange(job.Number("maxdiff"), 0, 5e-6 * Math.Max(1, job.Number("scale")));
    }

    [MpiTheory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void A_resnet_with_its_batch_norms_synchronised_matches_one_process(string optimizer)
    {
        var job = MpiJob.Run(2, ["equivalence", "resnet", optimizer]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.InRange(job.Number("moved"), 1e-2, double.MaxValue);
        Assert.InRange(job.Number("maxdiff"), 0, 5e-6 * Math.Max(1, job.Number("scale")));
    }

    [MpiFact]
    public void Converting_a_batch_norm_held_in_a_field_is_refused_by_name_and_undone()
    {
        var job = MpiJob.Run(2, ["convert-refusal"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(1, job.Number("refused"));
    }

    [MpiFact]
    public void Per_rank_batch_norm_does_not_match_which_is_why_SyncBatchNorm_exists()
    {
        var job = MpiJob.Run(2, ["equivalence", "cnn-unsynced", "sgd"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.InRange(job.Number("maxdiff"), 1e-3, double.MaxValue);
    }
}
