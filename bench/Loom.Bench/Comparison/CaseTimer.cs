using System.Diagnostics;
using System.Text.Json.Nodes;
using Loom.Bench.Peers;

namespace Loom.Bench.Comparison;

/// <summary>How one case was timed: Loom's figures, and the comparison with a peer when one ran the same case.</summary>
public sealed record CaseTiming(double MedianSeconds, double MinSeconds, int Iterations, string? PeerName, CaseComparison? Comparison)
{
    /// <summary>
    /// The report fields of the comparison (none without one): "peer", "peer_ms", "ratio" (median of the per-round
    /// Loom/peer time ratios), its quartiles and range, "spread", "rounds", "unstable" and every "round_ratios".
    /// </summary>
    public (string Key, object Value)[] PeerMetrics()
    {
        if (Comparison is null || PeerName is null) return [];
        var r = Comparison.Ratio;
        return
        [
            ("peer", PeerName), ("peer_ms", Comparison.PeerMedianSeconds * 1e3),
            ("ratio", r.Median), ("ratio_q1", r.Q1), ("ratio_q3", r.Q3), ("ratio_min", r.Min), ("ratio_max", r.Max),
            ("spread", r.Spread), ("rounds", r.Ratios.Count), ("unstable", r.Unstable),
            ("round_ratios", new JsonArray([.. r.Ratios.Select(x => (JsonNode)Math.Round(x, 4))])),
        ];
    }
}

/// <summary>The one way a benchmark times a case: alone, or interleaved with the peer's same case when there is one.</summary>
public static class CaseTimer
{
    /// <summary>
    /// Without <paramref name="peer"/>: <see cref="Timing.Measure"/> (warm-up, then the median over the budget). With
    /// it: <paramref name="warmup"/> steps, then <see cref="Interleaved.Run"/> with the peer under the options'
    /// comparison settings; Loom's figures are then the median over its rounds.
    /// </summary>
    public static CaseTiming Time(Action step, PeerCase? peer, BenchOptions options, int warmup = 3, int minIterations = 5, double budgetSeconds = 1.0)
    {
        if (peer is null)
        {
            var (median, min, iterations) = Timing.Measure(step, warmup, minIterations, budgetSeconds);
            return new CaseTiming(median, min, iterations, null, null);
        }
        double lastWarmup = 0;
        for (int i = 0; i < Math.Max(1, warmup); i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            step();
            lastWarmup = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        var comparison = Interleaved.Run(n => Timing.Round(step, n), lastWarmup, peer.Run, peer.StepSeconds, options.ComparisonSettings, Settle);
        return new CaseTiming(comparison.LoomMedianSeconds, comparison.Loom.Min(r => r.MinSeconds), comparison.Loom.Sum(r => r.Iterations),
            peer.Process.Name, comparison);
    }

    // Between blocks the side that just ran may still have workers spinning (libgomp spins for milliseconds before it
    // sleeps; Loom's pool polls for 50 µs): let them settle so they take nothing from the other side's block.
    private static void Settle() => Thread.Sleep(20);
}
