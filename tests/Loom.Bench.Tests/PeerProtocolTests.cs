namespace Loom.Bench.Tests;

/// <summary>
/// Loom's side of the peer protocol against the real peer_protocol.py, with a peer whose "step" is a sleep: needs
/// Python 3 (Debian's /usr/bin/python3, as the peers do) but neither torch nor numpy.
/// </summary>
public class PeerProtocolTests
{
    private const string SleepPeer = """
        import time
        import peer_protocol

        def sleeper(params):
            seconds = params.get("ms", 1) / 1e3
            return lambda: time.sleep(seconds)

        peer_protocol.main("sleepy", "1.0", {"kind": "test"}, {"sleep": sleeper}, lambda threads: None)
        """;

    private static PeerProcess StartPeer(TempFolder folder, string source)
    {
        Assert.True(File.Exists(PeerSet.Python), $"{PeerSet.Python} is needed to run the peers (apt-get install python3)");
        var script = folder.Write("peer.py", source);
        var peers = PeerFolder.Find(null, AppContext.BaseDirectory, AppContext.BaseDirectory)!;
        return PeerProcess.Start(PeerSet.Python, ["-u", "-B", script, "--serve"], folder.Path,
            new Dictionary<string, string?> { ["PYTHONPATH"] = peers });
    }

    [Fact]
    public void A_peer_greets_sets_up_a_case_and_times_blocks_of_its_steps()
    {
        using var folder = new TempFolder();
        using var peer = StartPeer(folder, SleepPeer);
        Assert.Equal(("sleepy", "1.0", "test"), (peer.Name, peer.Version, peer.Details["kind"]!.GetValue<string>()));
        var parameters = new JsonObject { ["ms"] = 5 };
        var c = peer.Setup("sleep", threads: 1, parameters, warmup: 2);
        Assert.InRange(c.StepSeconds, 0.005, 0.5);
        // A benchmark sets up its cases with one parameter object (at 1 thread, then 2): it must stay reusable.
        c = peer.Setup("sleep", threads: 2, parameters, warmup: 1);
        var round = c.Run(4);
        Assert.Equal(4, round.Iterations);
        Assert.InRange(round.MedianSeconds, 0.005, 0.5);
        Assert.InRange(round.MinSeconds, 0.005, round.MedianSeconds);
    }

    [Fact]
    public void A_refused_request_is_a_one_line_error_and_the_peer_keeps_serving()
    {
        using var folder = new TempFolder();
        using var peer = StartPeer(folder, SleepPeer);
        var e = Assert.Throws<PeerException>(() => peer.Setup("nope", 1));
        Assert.Contains("unknown case 'nope'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(1, peer.Setup("sleep", 1, new JsonObject { ["ms"] = 1 }, warmup: 1).Run(1).Iterations);
    }

    [Fact]
    public void A_peer_without_its_python_module_says_which_package_is_missing()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<PeerException>(() => StartPeer(folder, "import loom_no_such_module\n"));
        Assert.Contains("lacks the Python module 'loom_no_such_module'", e.Message);
    }

    [Fact]
    public void Interleaved_with_a_live_peer_the_ratio_is_loom_time_over_peer_time()
    {
        using var folder = new TempFolder();
        using var peer = StartPeer(folder, SleepPeer);
        var peerCase = peer.Setup("sleep", 1, new JsonObject { ["ms"] = 16 }, warmup: 1);
        var options = BenchOptions.Default with { Comparison = new ComparisonSettings(Rounds: 3, RoundSeconds: 0.1) };
        var t = CaseTimer.Time(() => Thread.Sleep(48), peerCase, options, warmup: 1);
        // Sleeps overshoot under load, the shorter one relatively more: about 3, far from 1 and from 1/3. Sleeps of 4 and
        // 12 ms read 1.44 at a load of 15 on 2 cores (a few ms of wake-up latency each); at 16 and 48 ms, the same latency up to
        // 16 ms per sleep leaves (48 + x) / (16 + x) above 2.
        Assert.InRange(t.Comparison!.Ratio.Median, 1.6, 4.5);
        Assert.Equal(3, t.Comparison.Ratio.Ratios.Count);
        var metrics = t.PeerMetrics().ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal("sleepy", metrics["peer"]);
        Assert.Equal(t.Comparison.Ratio.Median, (double)metrics["ratio"]);
    }
}
