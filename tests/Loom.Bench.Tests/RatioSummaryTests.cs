namespace Loom.Bench.Tests;

public class RatioSummaryTests
{
    [Fact]
    public void Quartiles_interpolate_between_sorted_neighbours()
    {
        // Out of order on purpose; sorted: 1 2 3 4 5 -> quartiles at positions 1, 2, 3.
        var s = RatioSummary.Of([5, 1, 4, 2, 3], maxSpread: 1);
        Assert.Equal((2.0, 3.0, 4.0, 1.0, 5.0), (s.Q1, s.Median, s.Q3, s.Min, s.Max));
        Assert.Equal(2.0 / 3.0, s.Spread, 12);
        // Even count: positions 0.75, 1.5, 2.25 of 1 2 3 4.
        var e = RatioSummary.Of([1, 2, 3, 4], maxSpread: 1);
        Assert.Equal((1.75, 2.5, 3.25), (e.Q1, e.Median, e.Q3));
    }

    [Fact]
    public void Unstable_exactly_when_the_spread_exceeds_the_maximum()
    {
        double[] ratios = [0.9, 1.0, 1.1]; // quartiles 0.95 and 1.05: spread 0.1
        Assert.False(RatioSummary.Of(ratios, maxSpread: 0.1 + 1e-9).Unstable);
        Assert.True(RatioSummary.Of(ratios, maxSpread: 0.1 - 1e-9).Unstable);
    }

    [Fact]
    public void One_round_has_no_spread_and_none_is_an_error()
    {
        var s = RatioSummary.Of([0.7], maxSpread: 0.2);
        Assert.Equal((0.7, 0.0, false), (s.Median, s.Spread, s.Unstable));
        Assert.Throws<ArgumentException>(() => RatioSummary.Of([], 0.2));
    }
}
