namespace Loom.Models.Tests.Faces;

/// <summary>
/// AS-norm against an in-domain cohort (unlabelled images of the population verified) and the unsupervised adaptation
/// that clusters those images into pseudo-identities: scores by hand, the case it exists for, and the real split that
/// keeps every test image out of the cohort.
/// </summary>
public sealed class InDomainCohortTests
{
    private static float[] Angles(params double[] degrees) =>
        [.. degrees.SelectMany(d => new[] { (float)Math.Cos(d * Math.PI / 180), (float)Math.Sin(d * Math.PI / 180) })];

    private static VerificationDecision Decision(int? inDomainTop, double? inDomainThreshold) =>
        new(0.5, 1.0, "cosine", 2, Angles(180, 190), 2, inDomainTop, inDomainThreshold);

    [Fact]
    public void A_user_cohort_scores_by_as_norm_at_the_run_s_in_domain_k_and_threshold()
    {
        // Cohort at 0°, 60°, 90°, 180°, K 2. The side at 0° has top cosines 1 and 0.5: μ 0.75, σ 0.25. The side at 60° has
        // 1 and cos 30° = √3/2: μ (1 + √3/2)/2, σ (1 − √3/2)/2, so its standardised cosine 0.5 is −(√3/2)/(1 − √3/2) =
        // −(3 + 2√3). The pair's score: (−1 − 3 − 2√3)/2 = −(2 + √3).
        var decision = Decision(2, -1.5).WithCohort(Angles(0, 60, 90, 180), "run");
        Assert.Equal(("asnorm", 2, -1.5), (decision.ScoreNorm, decision.CohortTop, decision.Threshold));
        Assert.Equal("AS-norm, top 2 of 4 cohort images", decision.Describe());
        var scores = decision.ScoresOf(Angles(0, 60), 2);
        Assert.Equal(-(2 + Math.Sqrt(3)), scores[0, 1], 1e-5);
        // A cohort smaller than the run's K is used whole; with the size of the cohort K was chosen with, K scales with the cohort.
        Assert.Equal(3, Decision(50, 0).WithCohort(Angles(0, 60, 90), "run").CohortTop);
        Assert.Equal(4, (Decision(2, 0) with { InDomainCohortSize = 3 }).WithCohort(Angles(0, 10, 20, 30, 40, 50), "run").CohortTop);
        Assert.Equal(5, (Decision(100, 0) with { InDomainCohortSize = 100, InDomainScore = "overlap" }).WithCohort(Angles(0, 10, 20, 30, 40, 50), "run").CohortTop);
        // A run whose validation chose neighbour overlap scores the user's cohort by overlap.
        var overlap = Decision(3, 0.4) with { InDomainScore = "overlap" };
        var byOverlap = overlap.WithCohort(Angles(0, 20, 40, 60, 90), "run");
        Assert.Equal("neighbour overlap, top 3 of 5 cohort images", byOverlap.Describe());
        Assert.Equal(0.5 + NeighbourOverlap.CosineTieBreak * Math.Cos(40 * Math.PI / 180), byOverlap.ScoresOf(Angles(10, 50), 2)[0, 1], 1e-7);
        Assert.Contains("has no in-domain cohort K", Assert.Throws<InvalidDataException>(() => Decision(null, null).WithCohort(Angles(0, 60), "run")).Message);
        Assert.Contains("at least 2 images", Assert.Throws<InvalidDataException>(() => Decision(2, 0).WithCohort(Angles(0), "run")).Message);
    }

    [Fact]
    public void Neighbour_overlap_is_the_jaccard_of_the_top_k_cohort_sets_with_the_cosine_as_tie_break()
    {
        // Cohort at 0°, 20°, 40°, 60°, 90°; K 3. The side at 10° has nearest 0°/20° (10° away) then 40° (30°): {0, 1, 2}.
        // The side at 50° has 40°/60° then 20° (30°) against 90° (40°): {1, 2, 3}. Shared 2 of 4: 0.5, plus 1e-5·cos 40°.
        var overlap = new NeighbourOverlap(Angles(0, 20, 40, 60, 90), 2, top: 3);
        var e = Angles(10, 50);
        var sets = overlap.Neighbours(e);
        Assert.Equal([0, 1, 2], sets[0]);
        Assert.Equal([1, 2, 3], sets[1]);
        var scores = new PairScores(e, 2, overlap);
        Assert.Equal(0.5 + NeighbourOverlap.CosineTieBreak * Math.Cos(40 * Math.PI / 180), scores[0, 1], 1e-7);
        // A side with no neighbour in common scores its cosine alone, scaled: ordered, and below any shared neighbour.
        var apart = new NeighbourOverlap(Angles(0, 20, 40, 60, 90), 2, top: 1);
        var s = new PairScores(Angles(0, 90), 2, apart);
        Assert.Equal(NeighbourOverlap.CosineTieBreak * Math.Cos(Math.PI / 2), s[0, 1], 1e-9);
        Assert.Throws<ArgumentException>(() => new NeighbourOverlap(Angles(0, 20), 2, top: 3));
        Assert.Throws<ArgumentException>(() => new PairScores(Angles(0, 30), 2, new NeighbourOverlap([1, 0, 0, 0, 1, 0], 3, top: 1)));
    }

    [Fact]
    public void An_in_domain_cohort_separates_identities_of_different_spread_that_a_training_cohort_cannot()
    {
        // Two unseen identities: A tight (0°, 2°, 4°), B spread (20°, 35°, 50°). B's same pairs (up to 30° apart) are less
        // alike than A's nearest different pair (16°), so no cosine threshold separates them. A training-class cohort
        // far from both (every 5° from 150° to 210°) measures each image against the same distant identity, which says
        // nothing about how dense its own neighbourhood is; unlabelled images of A and B themselves do, and with them,
        // at K 3, every same pair outscores every different one.
        var e = Angles(0, 2, 4, 20, 35, 50);
        int[] labels = [0, 0, 0, 1, 1, 1];
        var pairs = (from i in Enumerable.Range(0, 6) from j in Enumerable.Range(0, 6) where i < j select (i, j)).ToArray();
        double Eer(CohortNormalization? norm)
        {
            var s = new PairScores(e, 2, norm);
            return Verification.EqualErrorRate(Verification.Roc([.. pairs.Select(p => s[p.i, p.j])], [.. pairs.Select(p => labels[p.i] == labels[p.j])])).Rate;
        }
        Assert.True(Eer(null) > 0.1, $"cosine: EER {Eer(null):F3}");
        var training = Angles([.. Enumerable.Range(0, 13).Select(k => 150.0 + 5 * k)]);
        foreach (int top in new[] { 2, 3, 5, 13 })
            Assert.True(Eer(new CohortNormalization(training, 2, top)) > 0.1, $"training cohort, K {top}: EER {Eer(new CohortNormalization(training, 2, top)):F3}");
        Assert.Equal(0, Eer(new CohortNormalization(Angles(1, 3, 5, 25, 30, 40, 45), 2, top: 3)), 1e-12);
    }

    [Fact]
    public void The_cohort_and_the_validation_images_are_the_held_out_classes_training_split_and_never_a_test_image()
    {
        var config = new TrainingConfig { Task = FaceVerificationTask.TaskName, Data = "digits", TaskOptions = new JsonObject() };
        var (task, _, resolved) = Models.Tasks.Resolve(config);
        var data = (FaceVerificationData)task.Load(resolved);
        var unlabelled = data.UnlabelledHeldOut!;
        var validation = data.HeldOutValidation!;
        static HashSet<string> Rows(Tensor images)
        {
            int n = images.Shape[0], size = images.Numel / n;
            var pixels = images.ToArray<float>();
            return [.. Enumerable.Range(0, n).Select(i => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan(i * size, size)))))];
        }
        var (cohortRows, validationRows, testRows) = (Rows(unlabelled), Rows(validation.Inputs), Rows(data.Test.Inputs));
        Assert.Empty(cohortRows.Intersect(testRows));
        Assert.Empty(cohortRows.Intersect(validationRows));
        Assert.Empty(validationRows.Intersect(testRows));
        // Together they are the training split of 7, 8 and 9 (every one for digits: fewer than ValidationSize), half and half.
        var digits = Loom.Data.Digits.Load();
        var heldOutTrain = digits.Train.Gather([.. Enumerable.Range(0, digits.Train.Count).Where(i => digits.Train.Targets.ToArray<long>()[i] >= 7)]);
        var all = Rows(heldOutTrain.Inputs);
        Assert.Equal(all.Count, cohortRows.Count + validationRows.Count);
        Assert.Subset(all, cohortRows);
        Assert.Subset(all, validationRows);
        Assert.InRange(cohortRows.Count - validationRows.Count, 0, 1);
    }

    [Fact]
    public void Silhouette_is_worked_by_hand()
    {
        // Clusters {0°, 10°} and {90°, 100°} under cosine distance 1 − cos.
        double[] degrees = [0, 10, 90, 100];
        var e = Angles(degrees);
        var cosines = new float[16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                cosines[i * 4 + j] = e[2 * i] * e[2 * j] + e[2 * i + 1] * e[2 * j + 1];
        static double D(double degrees) => 1 - Math.Cos(degrees * Math.PI / 180);
        double s0 = ((D(90) + D(100)) / 2 - D(10)) / ((D(90) + D(100)) / 2), s1 = ((D(80) + D(90)) / 2 - D(10)) / ((D(80) + D(90)) / 2);
        // By symmetry 100° mirrors 0° and 90° mirrors 10°.
        Assert.Equal((s0 + s1 + s1 + s0) / 4, PseudoIdentities.Silhouette(cosines, 4, [0, 0, 1, 1], 2), 1e-6);
        // A row alone in its cluster counts 0: 0° and 10° each alone; 90° has b = D(80) (to 10°), 100° has b = D(90).
        double s2 = (D(80) - D(10)) / D(80), s3 = (D(90) - D(10)) / D(90);
        Assert.Equal((0 + 0 + s2 + s3) / 4, PseudoIdentities.Silhouette(cosines, 4, [2, 0, 1, 1], 3), 1e-6);
    }

    [Fact]
    public void Clustering_finds_three_groups_by_silhouette_and_keeps_each_group_s_surest_rows()
    {
        var generator = new Loom.Random.Generator(7);
        var degrees = Enumerable.Range(0, 30).Select(k => 120.0 * (k % 3) + 6 * (generator.NextDouble() - 0.5)).ToArray();
        var e = Angles(degrees);
        var (assignment, clusters, silhouettes) = PseudoIdentities.Cluster(e, 2, maxClusters: 6, seed: 1);
        Assert.Equal(3, clusters);
        Assert.Equal(5, silhouettes.Length);
        Assert.Equal(silhouettes.Max(), silhouettes[1]);
        // Rows of one group share a cluster, rows of two groups do not.
        for (int i = 0; i < 30; i++)
            for (int j = 0; j < 30; j++)
                Assert.Equal(i % 3 == j % 3, assignment[i] == assignment[j]);
        // Half of each cluster, its rows nearest their own centre and farthest from the next.
        var kept = PseudoIdentities.Confident(e, 2, assignment, clusters, 0.5);
        Assert.Equal(15, kept.Length);
        Assert.All(Enumerable.Range(0, 3), c => Assert.Equal(5, kept.Count(i => assignment[i] == c)));
        // A row between two clusters (60°, as near 0° as 120°) is the least sure of its cluster and is dropped.
        var between = Angles([.. degrees, 60]);
        var withBetween = PseudoIdentities.KMeans(between, 2, 3, seed: 1);
        var keptWithBetween = PseudoIdentities.Confident(between, 2, withBetween, 3, 0.9);
        Assert.DoesNotContain(30, keptWithBetween);
        Assert.Throws<ArgumentException>(() => PseudoIdentities.Confident(e, 2, assignment, clusters, 0));
        Assert.Throws<ArgumentException>(() => PseudoIdentities.Cluster(e, 2, maxClusters: 30, seed: 1));
    }
}
