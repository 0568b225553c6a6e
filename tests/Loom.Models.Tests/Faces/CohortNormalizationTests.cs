namespace Loom.Models.Tests.Faces;

/// <summary>AS-norm's cohort statistics and normalised scores, worked by hand; and the calibration failure it exists to fix.</summary>
public sealed class CohortNormalizationTests
{
    private static float[] Angles(params double[] degrees) =>
        [.. degrees.SelectMany(d => new[] { (float)Math.Cos(d * Math.PI / 180), (float)Math.Sin(d * Math.PI / 180) })];

    [Fact]
    public void Each_side_is_measured_by_its_top_k_cosines_to_the_cohort()
    {
        // Cohort at 0°, 60°, 90° and 180°; a probe at 0° has cosines 1, 0.5, 0, −1 to it: its top 2 are 1 and 0.5.
        var norm = new CohortNormalization(Angles(0, 60, 90, 180), 2, top: 2);
        var (mean, std) = Assert.Single(norm.Statistics(Angles(0)));
        Assert.Equal(0.75, mean, 1e-6);
        Assert.Equal(0.25, std, 1e-6);
        // Top 4 (plain S-norm over the whole cohort): mean 0.125, population variance (0.875² + 0.375² + 0.125² + 1.125²)/4.
        var all = new CohortNormalization(Angles(0, 60, 90, 180), 2, top: 4).Statistics(Angles(0))[0];
        Assert.Equal(0.125, all.Mean, 1e-6);
        Assert.Equal(Math.Sqrt((0.875 * 0.875 + 0.375 * 0.375 + 0.125 * 0.125 + 1.125 * 1.125) / 4), all.Std, 1e-6);
    }

    [Fact]
    public void The_score_averages_the_cosine_standardised_by_both_sides()
    {
        // ((0.5 − 0.75)/0.25 + (0.5 − 0.1)/0.2) / 2 = (−1 + 2) / 2.
        Assert.Equal(0.5, CohortNormalization.Score(0.5, (0.75, 0.25), (0.1, 0.2)), 1e-12);
        // A side whose top cosines are all equal has σ 0: the floor keeps the score finite.
        Assert.True(double.IsFinite(CohortNormalization.Score(0.5, (0.5, 0), (0.1, 0.2))));
        // PairScores with a cohort gives exactly this for a pair of rows.
        var norm = new CohortNormalization(Angles(0, 60, 90, 180), 2, top: 2);
        var e = Angles(0, 30);
        var stats = norm.Statistics(e);
        var scores = new PairScores(e, 2, norm);
        Assert.Equal(CohortNormalization.Score(scores.Cosine(0, 1), stats[0], stats[1]), scores[0, 1], 1e-12);
        Assert.Equal(Math.Cos(Math.PI / 6), new PairScores(e, 2)[0, 1], 1e-6);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new CohortNormalization(Angles(0, 60), 2, top: 3));
        Assert.Throws<ArgumentException>(() => new CohortNormalization(Angles(0, 60), 2, top: 1));
        Assert.Throws<ArgumentException>(() => new CohortNormalization([1, 0, 0], 2, top: 2));
        Assert.Throws<ArgumentException>(() => new PairScores(Angles(0, 30), 2, new CohortNormalization([1, 0, 0, 0, 1, 0], 3, top: 2)));
    }

    [Fact]
    public void Normalisation_separates_identities_that_one_cosine_threshold_cannot()
    {
        // Two unseen identities A and B in a narrow cone inside a dense part of the cohort (a trained identity, every 1°
        // from −10° to 10°), and two, C and D, in a sparse part (a cohort image every 30°). A's and B's different pairs
        // (6° apart) are more alike than C's and D's same pairs (12° apart), so no cosine threshold separates them all;
        // measured against what each image scores against its 3 nearest cohort images, every same pair stands out.
        var cohort = Angles([.. Enumerable.Range(0, 21).Select(k => -10.0 + k), .. Enumerable.Range(1, 11).Select(k => 30.0 * k)]);
        double[] points = [2, 3, 8, 9, 100, 112, 150, 162];
        int[] labels = [0, 0, 1, 1, 2, 2, 3, 3];
        var e = Angles(points);
        var pairs = (from i in Enumerable.Range(0, 8) from j in Enumerable.Range(0, 8) where i < j select (i, j)).ToArray();
        double Eer(PairScores s) => Verification.EqualErrorRate(Verification.Roc([.. pairs.Select(p => s[p.i, p.j])], [.. pairs.Select(p => labels[p.i] == labels[p.j])])).Rate;
        Assert.True(Eer(new PairScores(e, 2)) > 0.1, "cosine should fail here");
        Assert.Equal(0, Eer(new PairScores(e, 2, new CohortNormalization(cohort, 2, top: 3))), 1e-12);
    }
}
