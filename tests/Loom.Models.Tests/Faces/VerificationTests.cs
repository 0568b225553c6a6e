namespace Loom.Models.Tests.Faces;

/// <summary>ROC, equal error rate, TAR at a FAR and nearest-neighbour identification on cases worked by hand.</summary>
public sealed class VerificationTests
{
    [Fact]
    public void The_roc_equal_error_rate_and_tar_at_far_follow_the_ranked_pairs()
    {
        // Ranked: same, same, different, same, different, different.
        double[] scores = [0.5, 0.9, 0.7, 0.8, 0.6, 0.4];
        bool[] same = [false, true, false, true, true, false];
        var roc = Verification.Roc(scores, same);
        Assert.Equal(
            [new(double.PositiveInfinity, 0, 0), new(0.9, 0, 1 / 3.0), new(0.8, 0, 2 / 3.0), new(0.7, 1 / 3.0, 2 / 3.0), new(0.6, 1 / 3.0, 1), new(0.5, 2 / 3.0, 1), new RocPoint(0.4, 1, 1)],
            roc);
        // At 0.7 one same pair in three is rejected and one different pair in three accepted.
        var (eer, threshold) = Verification.EqualErrorRate(roc);
        Assert.Equal(1 / 3.0, eer, 1e-12);
        Assert.Equal(0.7, threshold, 1e-12);
        Assert.Equal((2 / 3.0, 0.8), Verification.TrueAcceptRateAt(roc, 0));
        Assert.Equal((1.0, 0.6), Verification.TrueAcceptRateAt(roc, 0.5));
    }

    [Fact]
    public void Between_roc_points_the_equal_error_rate_is_interpolated_and_ties_are_one_threshold()
    {
        // Two pairs of each kind; a same and a different pair tie at 0.5.
        var roc = Verification.Roc([0.9, 0.5, 0.5, 0.1], [true, true, false, false]);
        Assert.Equal(4, roc.Count); // +∞, 0.9, 0.5 (both tied pairs at once), 0.1
        Assert.Equal(new RocPoint(0.5, 0.5, 1), roc[2]);
        // FRR − FAR goes from 0.5 at 0.9 to −0.5 at 0.5: they cross halfway, at a rate of 0.25.
        var (eer, threshold) = Verification.EqualErrorRate(roc);
        Assert.Equal(0.25, eer, 1e-12);
        Assert.Equal(0.7, threshold, 1e-12);
        Assert.Throws<ArgumentException>(() => Verification.Roc([0.1, 0.2], [true, true]));
    }

    [Fact]
    public void Identification_counts_probes_whose_nearest_other_embedding_shares_their_label()
    {
        // Unit vectors at 0°, 10°, 90°, 100° and 50°: the last is nearest to 10° (class 0) but labelled 1.
        float[] e = [.. new[] { 0, 10, 90, 100, 50 }.SelectMany(d => new[] { MathF.Cos(d * MathF.PI / 180), MathF.Sin(d * MathF.PI / 180) })];
        Assert.Equal(4 / 5.0, Verification.NearestNeighbourAccuracy(e, 2, [0, 0, 1, 1, 1]), 1e-12);
    }
}
