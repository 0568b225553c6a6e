using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Models;

/// <summary>
/// How a face-verification run decides "same identity": the pair score (cosine, or AS-norm against the cohort of
/// training-image embeddings saved with the run) and, per score, the threshold its test evaluation found (the
/// equal-error-rate one). For AS-norm against a cohort the user brings (<see cref="WithCohort"/>: unlabelled images of
/// the population being verified), the K and threshold chosen on held-out validation against the run's in-domain
/// cohort. Runs written before the score could be chosen read as cosine without a cohort. <see cref="CohortThreshold"/>
/// is the threshold of whichever cohort score is in use: AS-norm against the training cohort as evaluated, or the
/// in-domain score once <see cref="WithCohort"/> has taken the user's cohort.
/// </summary>
public sealed record VerificationDecision(double CosineThreshold, double? CohortThreshold, string ScoreNorm, int CohortTop, float[]? Cohort, int Dimension,
    int? InDomainTop = null, double? InDomainThreshold = null, string InDomainScore = "asnorm", int? InDomainCohortSize = null)
{
    /// <summary>The scores against an in-domain cohort: AS-norm, or the overlap of cohort neighbours (<see cref="NeighbourOverlap"/>).</summary>
    public static IReadOnlyList<string> InDomainScores { get; } = ["asnorm", "overlap"];

    public static IReadOnlyList<string> Scores { get; } = ["cosine", "asnorm"];

    /// <summary>The threshold of the score in use (for a cohort score, the one the cohort was chosen with).</summary>
    public double Threshold => ScoreNorm == "cosine" ? CosineThreshold : CohortThreshold!.Value;

    /// <summary>The same run deciding by another score (`loom faces verify --score-norm`).</summary>
    public VerificationDecision Using(string score, string run) => score switch
    {
        "cosine" => this with { ScoreNorm = score },
        "asnorm" when Cohort is not null && CohortThreshold is not null => this with { ScoreNorm = score },
        "asnorm" => throw new InvalidDataException($"{run} has no AS-norm cohort and threshold (written before --score-norm existed); evaluate it again with loom eval"),
        _ => throw new ArgumentException($"--score-norm must be cosine or asnorm, got '{score}'"),
    };

    /// <summary>
    /// The run's in-domain score (AS-norm or neighbour overlap, chosen on held-out validation) against
    /// <paramref name="cohort"/> (L2-normalised embeddings [M, D] of unlabelled images of the population verified:
    /// `loom faces verify|pairs --cohort DIR`) and the run's threshold. K is the run's in-domain K scaled by M over the
    /// size of the cohort it was chosen with: what it measures is a share of the cohort (a neighbourhood), so a smaller
    /// cohort takes fewer neighbours rather than all of them (with which every overlap would be 1).
    /// </summary>
    public VerificationDecision WithCohort(float[] cohort, string run)
    {
        if (InDomainTop is not int top || InDomainThreshold is not double threshold)
            throw new InvalidDataException($"{run} has no in-domain cohort K and threshold (written before --cohort existed, or without held-out validation images); evaluate it again with loom eval");
        int size = cohort.Length / Dimension;
        if (size < 2) throw new InvalidDataException($"--cohort needs at least 2 images, got {size}");
        int scaled = InDomainCohortSize is int chosenWith && chosenWith > 0 ? (int)Math.Round((double)top * size / chosenWith) : top;
        int k = InDomainScore == "overlap" ? Math.Clamp(scaled, 1, size - 1) : Math.Clamp(scaled, 2, size);
        return this with { ScoreNorm = InDomainScore, Cohort = cohort, CohortTop = k, CohortThreshold = threshold };
    }

    /// <summary>The pair scores of <paramref name="embeddings"/> [N, <paramref name="dimension"/>] under the score in use.</summary>
    public PairScores ScoresOf(float[] embeddings, int dimension)
    {
        if (ScoreNorm != "cosine" && Dimension != dimension) throw new InvalidDataException($"the cohort has embeddings of {Dimension}, the network gives {dimension}");
        int top = Cohort is null ? 0 : Math.Min(CohortTop, Cohort.Length / Dimension);
        return ScoreNorm switch
        {
            "asnorm" => new PairScores(embeddings, dimension, new CohortNormalization(Cohort!, Dimension, top)),
            "overlap" => new PairScores(embeddings, dimension, new NeighbourOverlap(Cohort!, Dimension, top)),
            _ => new PairScores(embeddings, dimension),
        };
    }

    public string Describe() => ScoreNorm switch
    {
        "asnorm" => $"AS-norm, top {CohortTop} of {Cohort?.Length / Dimension} cohort images",
        "overlap" => $"neighbour overlap, top {CohortTop} of {Cohort?.Length / Dimension} cohort images",
        _ => "cosine",
    };

    public void Write(RunFolder folder, double eer)
    {
        File.WriteAllText(folder.File(FaceVerificationEvaluation.ThresholdFile),
            new JsonObject { ["threshold"] = Threshold, ["eer"] = eer, ["score_norm"] = ScoreNorm, ["cohort_top"] = CohortTop, ["threshold_cosine"] = CosineThreshold, ["threshold_asnorm"] = CohortThreshold,
                ["cohort_top_in_domain"] = InDomainTop, ["threshold_in_domain"] = InDomainThreshold, ["score_in_domain"] = InDomainScore,
                ["cohort_size_in_domain"] = InDomainCohortSize }.ToJsonString());
        if (Cohort is not null) NpyWriter.Write(folder.File(FaceVerificationEvaluation.CohortFile), Tensor.FromArray(Cohort, Cohort.Length / Dimension, Dimension));
    }

    public static VerificationDecision Read(RunFolder folder)
    {
        var path = folder.File(FaceVerificationEvaluation.ThresholdFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder.Path} has no {FaceVerificationEvaluation.ThresholdFile}: the run has not finished its test evaluation", path);
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            throw new InvalidDataException($"{path}: expected {{\"threshold\": number}}, as loom train writes it");
        }
        double threshold;
        double? cosine, asnorm;
        string score;
        int top;
        int? inDomainTop;
        double? inDomainThreshold;
        string inDomainScore;
        int? inDomainSize;
        try
        {
            threshold = json?["threshold"]?.GetValue<double>() is double t && double.IsFinite(t) ? t : throw new InvalidDataException($"{path}: expected {{\"threshold\": number}}, as loom train writes it");
            score = json?["score_norm"]?.GetValue<string>() ?? "cosine";
            top = json?["cohort_top"]?.GetValue<int>() ?? 2;
            cosine = json?["threshold_cosine"]?.GetValue<double>();
            asnorm = json?["threshold_asnorm"]?.GetValue<double>();
            inDomainTop = json?["cohort_top_in_domain"]?.GetValue<int>();
            inDomainThreshold = json?["threshold_in_domain"]?.GetValue<double>();
            inDomainScore = json?["score_in_domain"]?.GetValue<string>() ?? "asnorm";
            inDomainSize = json?["cohort_size_in_domain"]?.GetValue<int>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: expected a number threshold, a score_norm string and a cohort_top integer, as loom train writes them");
        }
        if (score is not ("cosine" or "asnorm")) throw new InvalidDataException($"{path}: score_norm must be cosine or asnorm, got '{score}'");
        if (inDomainTop is < 2) throw new InvalidDataException($"{path}: cohort_top_in_domain {inDomainTop} is below 2");
        if (!InDomainScores.Contains(inDomainScore)) throw new InvalidDataException($"{path}: score_in_domain must be {string.Join(" or ", InDomainScores)}, got '{inDomainScore}'");
        var cohortPath = folder.File(FaceVerificationEvaluation.CohortFile);
        if (!File.Exists(cohortPath))
            return score == "asnorm"
                ? throw new FileNotFoundException($"{folder.Path} scores by AS-norm but has no {FaceVerificationEvaluation.CohortFile}", cohortPath)
                : new VerificationDecision(threshold, null, score, top, null, 0, inDomainTop, inDomainThreshold, inDomainScore, inDomainSize);
        var cohort = NpyReader.Read(cohortPath);
        if (cohort.Rank != 2 || cohort.Shape[0] < 2 || cohort.DType != DType.Float32)
            throw new InvalidDataException($"{cohortPath}: expected a float32 [cohort, embedding] array, as loom train writes it");
        if (top < 2 || top > cohort.Shape[0]) throw new InvalidDataException($"{path}: cohort_top {top} is not between 2 and the cohort's {cohort.Shape[0]} embeddings");
        if (score == "asnorm") asnorm ??= threshold;
        return new VerificationDecision(cosine ?? threshold, asnorm, score, top, cohort.ToArray<float>(), cohort.Shape[1], inDomainTop, inDomainThreshold, inDomainScore, inDomainSize);
    }
}
