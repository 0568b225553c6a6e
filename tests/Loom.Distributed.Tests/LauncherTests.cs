namespace Loom.Distributed.Tests;

/// <summary>How <see cref="MpiLauncher"/> places ranks on the machine's cores (the command only; no job runs).</summary>
public class LauncherTests
{
    [Fact]
    public void Ranks_are_bound_to_cores_of_their_own_only_when_there_are_several_and_their_threads_fit()
    {
        Assert.True(MpiLauncher.BindsRanks(ranks: 2, threadsPerRank: 1, cores: 2));
        Assert.True(MpiLauncher.BindsRanks(ranks: 2, threadsPerRank: 2, cores: 4));
        Assert.True(MpiLauncher.BindsRanks(ranks: 3, threadsPerRank: 1, cores: 8));
        // Oversubscribed: pinned ranks could not move off a core they share.
        Assert.False(MpiLauncher.BindsRanks(ranks: 3, threadsPerRank: 1, cores: 2));
        Assert.False(MpiLauncher.BindsRanks(ranks: 2, threadsPerRank: 2, cores: 2));
        // One rank is `loom train`: its helper threads keep the cores its compute leaves idle.
        Assert.False(MpiLauncher.BindsRanks(ranks: 1, threadsPerRank: 1, cores: 2));
    }

    [Fact]
    public void The_command_binds_with_the_ranks_threads_per_rank_and_leaves_unknown_threads_to_the_scheduler()
    {
        static string Args(int ranks, int? threads) => string.Join(' ', MpiLauncher.StartInfo(ranks, "prog", ["a"], isolateNetwork: false, threads).ArgumentList);
        int cores = Environment.ProcessorCount;
        Assert.Contains("--oversubscribe --bind-to none prog a", Args(2, null));
        Assert.Contains("--oversubscribe --bind-to none prog a", Args(1, 1));
        Assert.Contains("--oversubscribe --bind-to none prog a", Args(cores + 1, 1));
        if (cores >= 2) Assert.Contains("-np 2 --map-by core:PE=1 --bind-to core prog a", Args(2, 1));
        if (cores >= 4) Assert.Contains("-np 2 --map-by core:PE=2 --bind-to core prog a", Args(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Args(2, 0));
    }
}
