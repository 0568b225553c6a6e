using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loom.Models;

/// <summary>
/// How a face-verification run decides "same identity": the pair score (cosine, or AS-norm against the cohort of
/// training-image embeddings saved with the run) and, per score, the threshold its test evaluation found (the
/// equal-error-rate one). Runs written before the score could be chosen read as cosine without a cohort.
/// </summary>
public sealed record VerificationDecision(double CosineThreshold, double? AsNormThreshold, string ScoreNorm, int CohortTop, float[]? Cohort, int Dimension)
{
    public static IReadOnlyList<string> Scores { get; } = ["cosine", "asnorm"];

    /// <summary>The threshold of the score in use.</summary>
    public double Threshold => ScoreNorm == "asnorm" ? AsNormThreshold!.Value : CosineThreshold;

    /// <summary>The same run deciding by another score (`loom faces verify --score-norm`).</summary>
    public VerificationDecision Using(string score, string run) => score switch
    {
        "cosine" => this with { ScoreNorm = score },
        "asnorm" when Cohort is not null && AsNormThreshold is not null => this with { ScoreNorm = score },
        "asnorm" => throw new InvalidDataException($"{run} has no AS-norm cohort and threshold (written before --score-norm existed); evaluate it again with loom eval"),
        _ => throw new ArgumentException($"--score-norm must be cosine or asnorm, got '{score}'"),
    };

    /// <summary>The cohort normalisation when the score is AS-norm; null for cosine.</summary>
    public CohortNormalization? Normalization =>
        ScoreNorm == "asnorm" && Cohort is not null ? new CohortNormalization(Cohort, Dimension, Math.Min(CohortTop, Cohort.Length / Dimension)) : null;

    public string Describe() => ScoreNorm == "asnorm" ? $"AS-norm, top {CohortTop} of {Cohort?.Length / Dimension} cohort images" : "cosine";

    public void Write(RunFolder folder, double eer)
    {
        File.WriteAllText(folder.File(FaceVerificationEvaluation.ThresholdFile),
            new JsonObject { ["threshold"] = Threshold, ["eer"] = eer, ["score_norm"] = ScoreNorm, ["cohort_top"] = CohortTop, ["threshold_cosine"] = CosineThreshold, ["threshold_asnorm"] = AsNormThreshold }.ToJsonString());
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
        try
        {
            threshold = json?["threshold"]?.GetValue<double>() is double t && double.IsFinite(t) ? t : throw new InvalidDataException($"{path}: expected {{\"threshold\": number}}, as loom train writes it");
            score = json?["score_norm"]?.GetValue<string>() ?? "cosine";
            top = json?["cohort_top"]?.GetValue<int>() ?? 2;
            cosine = json?["threshold_cosine"]?.GetValue<double>();
            asnorm = json?["threshold_asnorm"]?.GetValue<double>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: expected a number threshold, a score_norm string and a cohort_top integer, as loom train writes them");
        }
        if (score is not ("cosine" or "asnorm")) throw new InvalidDataException($"{path}: score_norm must be cosine or asnorm, got '{score}'");
        var cohortPath = folder.File(FaceVerificationEvaluation.CohortFile);
        if (!File.Exists(cohortPath))
            return score == "asnorm"
                ? throw new FileNotFoundException($"{folder.Path} scores by AS-norm but has no {FaceVerificationEvaluation.CohortFile}", cohortPath)
                : new VerificationDecision(threshold, null, score, top, null, 0);
        var cohort = NpyReader.Read(cohortPath);
        if (cohort.Rank != 2 || cohort.Shape[0] < 2 || cohort.DType != DType.Float32)
            throw new InvalidDataException($"{cohortPath}: expected a float32 [cohort, embedding] array, as loom train writes it");
        if (top < 2 || top > cohort.Shape[0]) throw new InvalidDataException($"{path}: cohort_top {top} is not between 2 and the cohort's {cohort.Shape[0]} embeddings");
        if (score == "asnorm") asnorm ??= threshold;
        return new VerificationDecision(cosine ?? threshold, asnorm, score, top, cohort.ToArray<float>(), cohort.Shape[1]);
    }
}
