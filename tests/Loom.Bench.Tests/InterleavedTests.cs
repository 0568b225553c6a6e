namespace Loom.Bench.Tests;

public class InterleavedTests
{
    /// <summary>
    /// A simulated machine: each block "takes" iterations × step × load seconds of simulated time, and the load is
    /// whatever <paramref name="load"/> says at the moment the block starts.
    /// </summary>
    private sealed class SimulatedMachine(Func<double, double> load)
    {
        public double Now { get; private set; }

        public List<string> Calls { get; } = [];

        public RoundRunner Side(string name, double stepSeconds) => iterations =>
        {
            Calls.Add(name);
            double step = stepSeconds * load(Now);
            Now += iterations * step;
            return new RoundTiming(step, step, iterations);
        };
    }

    [Fact]
    public void The_side_that_goes_first_alternates_from_round_to_round()
    {
        var machine = new SimulatedMachine(_ => 1);
        int pauses = 0;
        Interleaved.Run(machine.Side("loom", 0.01), 0.01, machine.Side("peer", 0.01), 0.01, new ComparisonSettings(4, 0.05), () => pauses++);
        Assert.Equal(["loom", "peer", "peer", "loom", "loom", "peer", "peer", "loom"], machine.Calls);
        Assert.Equal(7, pauses); // between every two blocks, none after the last
    }

    [Fact]
    public void A_change_of_background_load_mid_run_does_not_move_the_ratio()
    {
        // Loom's step is half the peer's. After 3 simulated seconds everything runs 2.5× slower: timing all Loom
        // rounds first and all peer rounds after (the old way) would give 0.5 / 2.5 = 0.2.
        var machine = new SimulatedMachine(t => t < 3 ? 1 : 2.5);
        var c = Interleaved.Run(machine.Side("loom", 0.001), 0.001, machine.Side("peer", 0.002), 0.002, new ComparisonSettings(9, 0.4));
        Assert.True(machine.Now > 3, "the load change must fall inside the run for this test to mean anything");
        Assert.Equal(0.5, c.Ratio.Median, 12);
        Assert.False(c.Ratio.Unstable);
    }

    [Fact]
    public void Rounds_whose_ratios_scatter_are_flagged_unstable_and_steady_ones_are_not()
    {
        // The peer's speed jumps between rounds (a neighbour starting and stopping); Loom's stays the same.
        int peerBlocks = 0;
        double[] peerSteps = [1.0, 2.0, 1.0, 1.5, 2.0, 1.0, 2.0];
        RoundRunner loom = n => new RoundTiming(1.0, 1.0, n);
        RoundRunner jumpy = n => new RoundTiming(peerSteps[peerBlocks++], 1.0, n);
        var scattered = Interleaved.Run(loom, 1, jumpy, 1, new ComparisonSettings(7, 0.1));
        Assert.True(scattered.Ratio.Unstable, $"spread {scattered.Ratio.Spread}");
        Assert.Equal(1.0, scattered.Ratio.Max);
        Assert.Equal(0.5, scattered.Ratio.Min);

        RoundRunner steady = n => new RoundTiming(1.04, 1.0, n);
        var calm = Interleaved.Run(loom, 1, steady, 1, new ComparisonSettings(7, 0.1));
        Assert.False(calm.Ratio.Unstable);
        Assert.Equal(1 / 1.04, calm.Ratio.Median, 12);
    }

    [Fact]
    public void Blocks_last_at_least_a_round_once_the_first_round_has_measured_the_step()
    {
        // The warm-up estimate is 10× too slow (a cold first step), so the first blocks are short; from the second
        // round on, each block must cover the round time with the step time the first round measured.
        var iterations = new List<int>();
        RoundRunner side = n =>
        {
            iterations.Add(n);
            return new RoundTiming(0.003, 0.003, n);
        };
        Interleaved.Run(side, 0.03, side, 0.03, new ComparisonSettings(3, 0.1));
        Assert.Equal([4, 4], iterations.Take(2));
        Assert.All(iterations.Skip(2), n => Assert.True(n * 0.003 >= 0.1, $"{n} steps of 3 ms do not fill 0.1 s"));
    }

    [Fact]
    public void Per_round_ratios_are_loom_over_peer_so_below_one_means_loom_is_faster()
    {
        var c = Interleaved.Run(n => new RoundTiming(2e-3, 2e-3, n), 2e-3, n => new RoundTiming(8e-3, 8e-3, n), 8e-3, new ComparisonSettings(3, 0.01));
        Assert.All(c.Ratio.Ratios, r => Assert.Equal(0.25, r, 12));
        Assert.Equal(2e-3, c.LoomMedianSeconds, 12);
        Assert.Equal(8e-3, c.PeerMedianSeconds, 12);
    }
}
