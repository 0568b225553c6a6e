namespace Loom.Bench.Tests;

public class BenchReportTests
{
    [Fact]
    public void A_compared_case_is_written_with_its_ratio_spread_flag_and_rounds()
    {
        var log = new StringWriter();
        var report = new BenchReport(log, new Peers.PeerSet(true, log, () => null), new ComparisonSettings(3, 0.1, 0.2));
        RoundRunner loom = n => new RoundTiming(1e-3, 1e-3, n);
        int block = 0;
        double[] peerSteps = [2e-3, 1e-3, 4e-3];
        RoundRunner peer = n => new RoundTiming(peerSteps[block++], 1e-3, n);
        var comparison = Interleaved.Run(loom, 1e-3, peer, 1e-3, new ComparisonSettings(3, 0.1, 0.2));
        var timing = new CaseTiming(comparison.LoomMedianSeconds, 1e-3, 300, "torch", comparison);
        report.Add("trainstep", "mlp @1t", [("median_ms", timing.MedianSeconds * 1e3), .. timing.PeerMetrics()]);

        var root = JsonNode.Parse(report.ToJson())!;
        Assert.Equal(BenchReport.Schema, root["schema"]!.GetValue<int>());
        Assert.Equal(3, root["comparison"]!["rounds"]!.GetValue<int>());
        Assert.NotNull(root["peers"]);
        var r = root["results"]![0]!;
        Assert.Equal("torch", r["peer"]!.GetValue<string>());
        Assert.Equal(2.0, r["peer_ms"]!.GetValue<double>(), 9);
        Assert.Equal(0.5, r["ratio"]!.GetValue<double>(), 9); // ratios 0.5, 1, 0.25
        Assert.Equal((0.25, 1.0), (r["ratio_min"]!.GetValue<double>(), r["ratio_max"]!.GetValue<double>()));
        Assert.True(r["unstable"]!.GetValue<bool>());
        Assert.Equal([0.5, 1.0, 0.25], r["round_ratios"]!.AsArray().Select(x => x!.GetValue<double>()));
        Assert.Contains("UNSTABLE", log.ToString());
        Assert.Equal(["trainstep mlp @1t"], report.UnstableCases());
    }

    [Fact]
    public void Without_peers_the_report_has_no_peer_sections()
    {
        var report = new BenchReport(TextWriter.Null);
        report.Add("sgemm", "n=128", ("gflops", 90.0));
        var root = JsonNode.Parse(report.ToJson())!;
        Assert.Null(root["peers"]);
        Assert.Null(root["comparison"]);
        Assert.Equal(90.0, root["results"]![0]!["gflops"]!.GetValue<double>());
    }
}
