using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Memory;
using Loom.Random;

namespace Loom.Models;

/// <summary>
/// Open-set evaluation of an embedding on classes it never trained on: the ROC of test pairs' scores (half of one
/// class, half of two), its equal error rate and threshold, the true accept rate at FAR 1e-2, and top-1
/// identification by nearest neighbour among the held-out test images. Pairs are scored by cosine or by AS-norm
/// against a cohort of training images (`--score-norm`); both are measured on held-out validation images (the
/// held-out classes' training split) so the choice is made there, not on the test pairs. The test loss is NaN: the
/// CosFace head knows only the training classes, so there is no loss on held-out ones.
/// </summary>
public sealed class FaceVerificationEvaluation : TaskEvaluation
{
    public const string ThresholdFile = "verification.json";

    /// <summary>The cohort's embeddings, written beside the weights so `loom faces` scores as the evaluation did.</summary>
    public const string CohortFile = "cohort.npy";

    /// <summary>Training images embedded as the AS-norm cohort (evenly spread over the training split).</summary>
    public const int CohortSize = 2000;

    /// <summary>Held-out validation images scored for the choice of score (evenly spread; bounds the pair and cohort work).</summary>
    public const int ValidationSize = 3000;

    /// <summary>The AS-norm K values the validation table compares (K = the cohort's size is plain S-norm).</summary>
    public static IReadOnlyList<int> CohortTopGrid { get; } = [10, 50, 200, 1000, CohortSize];

    /// <summary>The K values compared against the in-domain cohort, for AS-norm (and the whole cohort) and neighbour overlap.</summary>
    public static IReadOnlyList<int> InDomainTopGrid { get; } = [10, 25, 50, 100, 200, 300, 400, 600, 1000];

    /// <summary>The sequence test pairs are drawn from; fixed, so every run is scored on the same pairs.</summary>
    public const ulong PairSeed = 0xFACE5;

    private readonly VerificationDecision _decision;

    private FaceVerificationEvaluation(EvaluationResult result, IReadOnlyList<RocPoint> roc, VerificationDecision decision, IReadOnlyList<ResultTable> tables) : base(result)
    {
        Roc = roc;
        _decision = decision;
        Tables =
        [
            new ResultTable($"Open-set verification (held-out classes, {decision.Describe()})", ["FAR at most", "TAR", "threshold"],
                [.. new[] { 1e-3, 1e-2, 1e-1 }.Select(far => Verification.TrueAcceptRateAt(roc, far)).Zip([1e-3, 1e-2, 1e-1], (t, far) => (IReadOnlyList<Cell>)[far, t.Rate, t.Threshold])]),
            .. tables,
        ];
    }

    public IReadOnlyList<RocPoint> Roc { get; }

    /// <summary>The equal-error-rate threshold of the chosen score, which `loom faces verify` decides at.</summary>
    public double Threshold => _decision.Threshold;

    public override IReadOnlyList<ResultTable> Tables { get; }

    /// <summary>Writes <see cref="ThresholdFile"/> (the decision of `loom faces verify`) and <see cref="CohortFile"/>; no figure.</summary>
    public override IReadOnlyList<string> WritePlots(RunFolder folder)
    {
        _decision.Write(folder, Metrics["eer"]);
        return [];
    }

    /// <summary>The decision a run's evaluation wrote: threshold, score and cohort.</summary>
    public static VerificationDecision ReadDecision(RunFolder folder) => VerificationDecision.Read(folder);

    /// <summary>L2-normalised embeddings [N, D] of <paramref name="images"/> [N, C, H, W], in eval mode without gradients.</summary>
    public static float[] Embed(FaceEmbedder model, Tensor images, int batchSize = 256)
    {
        bool training = model.Training;
        model.Eval();
        try
        {
            int n = images.Shape[0];
            var result = new float[n * model.Dimension];
            using var noGrad = new NoGrad();
            for (int start = 0; start < n; start += batchSize)
            {
                using var scope = new MemoryScope();
                int count = Math.Min(batchSize, n - start);
                model.Embed(images.Narrow(0, start, count)).To(DType.Float32).Contiguous().ToArray<float>().CopyTo(result, start * model.Dimension);
            }
            return result;
        }
        finally
        {
            if (training) model.Train();
        }
    }

    public static FaceVerificationEvaluation Of(Evaluator evaluator, FaceVerificationData data, int pairs)
    {
        var model = (FaceEmbedder)evaluator.Model;
        var options = data.Options;
        int d = model.Dimension;
        var cohort = Embed(model, FaceVerificationData.Spread(data.LabelledTrain ?? data.Train, CohortSize).Inputs);
        CohortNormalization Norm(int top) => new(cohort, d, Math.Min(top, cohort.Length / d));
        // The in-domain cohort: the held-out classes' unlabelled images (no test image, no validation image, no label).
        var inDomain = data.UnlabelledHeldOut is { } unlabelled ? Embed(model, unlabelled) : null;
        var chosen = options.ScoreNorm == "asnorm" ? Norm(options.CohortTop) : null;

        var embeddings = Embed(model, data.Test.Inputs);
        var labels = Labels(data.Test.Targets);
        var scores = new PairScores(embeddings, d, chosen);
        var (roc, eer, _) = Score(scores, labels, pairs);
        var metrics = new Dictionary<string, double>
        {
            ["eer"] = eer,
            ["tar_at_far_1e-2"] = Verification.TrueAcceptRateAt(roc, 1e-2).Rate,
            ["top1_identification"] = Verification.NearestNeighbourAccuracy(scores, labels),
        };
        var tables = new List<ResultTable>();
        // Every pair score compared: its name, cohort, K and how it scores a set of embeddings.
        var candidates = new List<Candidate> { new("cosine", "", null, e => new PairScores(e, d)) };
        candidates.AddRange(CohortTopGrid.Where(k => k <= cohort.Length / d).Select(k => new Candidate("asnorm", "training", k, e => new PairScores(e, d, Norm(k)))));
        if (inDomain is not null)
        {
            int size = inDomain.Length / d;
            var grid = InDomainTopGrid.Select(k => Math.Min(k, size)).Append(size).Where(k => k >= 2).Distinct().ToList();
            candidates.AddRange(grid.Select(k => new Candidate("asnorm", "in-domain", k, e => new PairScores(e, d, new CohortNormalization(inDomain, d, k)))));
            candidates.AddRange(grid.Where(k => k < size).Select(k => new Candidate("overlap", "in-domain", k, e => new PairScores(e, d, new NeighbourOverlap(inDomain, d, k)))));
        }
        // Training-cohort AS-norm at --cohort-top: the grid's entry when the grid has that K.
        var trainingAsNorm = candidates.FirstOrDefault(c => c.Cohort == "training" && c.Top == options.CohortTop) ?? new("asnorm", "training", Math.Min(options.CohortTop, cohort.Length / d), e => new PairScores(e, d, Norm(options.CohortTop)));
        var validationEer = new Dictionary<Candidate, double>();
        Candidate? inDomainChoice = null;
        double inDomainThreshold = double.NaN;
        if (data.HeldOutValidation is { } validation)
        {
            // The choice of score, on held-out classes' images no test pair uses and no cohort holds.
            var ve = Embed(model, validation.Inputs);
            var vl = Labels(validation.Targets);
            var cells = new List<IReadOnlyList<Cell>>();
            foreach (var candidate in candidates)
            {
                var (vroc, veer, vthreshold) = Score(candidate.Scores(ve), vl, pairs);
                validationEer[candidate] = veer;
                cells.Add([candidate.Score, candidate.Cohort, candidate.Top is int k ? (long)k : "", veer, Verification.TrueAcceptRateAt(vroc, 1e-2).Rate]);
                if (candidate.Cohort == "in-domain" && (inDomainChoice is null || veer < validationEer[inDomainChoice])) (inDomainChoice, inDomainThreshold) = (candidate, vthreshold);
            }
            tables.Add(new ResultTable($"Pair score on held-out validation ({vl.Length} training-split images of the held-out classes; the in-domain cohort is the other {(inDomain?.Length ?? 0) / d}, unlabelled; choose --score-norm, --cohort-top and the in-domain score here)",
                ["score", "cohort", "top K", "EER", "TAR at FAR 1e-2"], cells));
            metrics["val_eer_cosine"] = validationEer[candidates[0]];
            metrics["val_eer_asnorm"] = validationEer.TryGetValue(trainingAsNorm, out double asnormEer) ? asnormEer : Score(trainingAsNorm.Scores(ve), vl, pairs).Eer;
            if (inDomainChoice is not null)
            {
                metrics["val_eer_in_domain"] = validationEer[inDomainChoice];
                metrics["cohort_top_in_domain"] = inDomainChoice.Top!.Value;
            }
        }
        // The test figures side by side: cosine, training-cohort AS-norm at --cohort-top, and the in-domain score chosen
        // on validation. The thresholds of the first two are the test ROC's, so `loom faces verify --score-norm` can
        // decide by either; the in-domain one is validation's (with --cohort, the cohort is the user's).
        var testRows = new List<Candidate>
        {
            candidates[0],
            trainingAsNorm,
        };
        // Both in-domain scores at their best K on validation, the chosen one last.
        foreach (var kind in new[] { "asnorm", "overlap" }.OrderBy(k => k == inDomainChoice?.Score))
            if (candidates.Where(c => c.Cohort == "in-domain" && c.Score == kind && validationEer.ContainsKey(c)).MinBy(c => validationEer[c]) is { } best)
                testRows.Add(best);
        var testCells = new List<IReadOnlyList<Cell>>();
        var thresholds = new List<double>();
        foreach (var candidate in testRows)
        {
            var pairScores = candidate.Scores(embeddings);
            var (troc, teer, tthreshold) = Score(pairScores, labels, pairs);
            double tar = Verification.TrueAcceptRateAt(troc, 1e-2).Rate, top1 = Verification.NearestNeighbourAccuracy(pairScores, labels);
            testCells.Add([candidate.Score, candidate.Cohort, candidate.Top is int k ? (long)k : "", validationEer.GetValueOrDefault(candidate, double.NaN), teer, tar, top1]);
            string suffix = candidate.Cohort switch { "" => "_cosine", "training" => "_asnorm", _ => candidate == inDomainChoice ? "_in_domain" : $"_{candidate.Score}_in_domain" };
            metrics["eer" + suffix] = teer;
            metrics["tar_at_far_1e-2" + suffix] = tar;
            metrics["top1" + suffix] = top1;
            thresholds.Add(tthreshold);
        }
        tables.Add(new ResultTable($"Test pairs by pair score (validation EER beside{(inDomainChoice is null ? "" : $"; in-domain: the unlabelled cohort, each score at its best K on validation, {inDomainChoice.Score} chosen")})",
            ["score", "cohort", "top K", "validation EER", "test EER", "TAR at FAR 1e-2", "top-1"], testCells));
        var decision = new VerificationDecision(thresholds[0], thresholds[1], options.ScoreNorm, Math.Min(options.CohortTop, cohort.Length / d), cohort, d,
            inDomainChoice?.Top, inDomainChoice is null ? null : inDomainThreshold, inDomainChoice?.Score ?? "asnorm", inDomain is null ? null : inDomain.Length / d);
        return new FaceVerificationEvaluation(new EvaluationResult(double.NaN, metrics, labels.Length), roc, decision, tables);
    }

    // A pair score the evaluation compares: "cosine", "asnorm" or "overlap", against no, the training or the in-domain cohort, at K.
    private sealed record Candidate(string Score, string Cohort, int? Top, Func<float[], PairScores> Scores);

    private static (IReadOnlyList<RocPoint> Roc, double Eer, double Threshold) Score(PairScores scores, int[] labels, int pairs)
    {
        var (first, second, same) = PairIndices(labels, pairs);
        var roc = Verification.Roc([.. first.Select((i, k) => scores[i, second[k]])], same);
        var (eer, threshold) = Verification.EqualErrorRate(roc);
        return (roc, eer, threshold);
    }

    private static int[] Labels(Tensor targets) => [.. targets.ToArray<long>().Select(t => (int)t)];

    /// <summary>
    /// The index pairs of <paramref name="count"/> pairs of different images, half of one class and half of two, drawn
    /// by <see cref="PairSeed"/>, and whether each pair is of one class.
    /// </summary>
    public static (int[] First, int[] Second, bool[] Same) PairIndices(int[] labels, int count)
    {
        var byClass = labels.Select((c, i) => (c, i)).GroupBy(p => p.c).ToDictionary(g => g.Key, g => g.Select(p => p.i).ToArray());
        if (byClass.Count < 2 || byClass.Values.All(v => v.Length < 2))
            throw new InvalidDataException("face verification needs test images of at least two classes, one with two or more images");
        var g = new Generator(PairSeed);
        var (first, second, same) = (new int[count], new int[count], new bool[count]);
        for (int k = 0; k < count; k++)
        {
            int i, j;
            if (k % 2 == 0)
            {
                do i = g.NextInt(0, labels.Length); while (byClass[labels[i]].Length < 2);
                var mates = byClass[labels[i]];
                do j = mates[g.NextInt(0, mates.Length)]; while (j == i);
            }
            else
            {
                i = g.NextInt(0, labels.Length);
                do j = g.NextInt(0, labels.Length); while (labels[j] == labels[i]);
            }
            (first[k], second[k], same[k]) = (i, j, labels[i] == labels[j]);
        }
        return (first, second, same);
    }
}
