namespace Loom.Models;

/// <summary>
/// A trained face-verification run ready for pictures (`loom faces verify`, `loom faces pairs`): the embedding
/// network, the image shape it takes, and how it decides (<see cref="VerificationDecision"/>: the pair score, cosine or
/// AS-norm against the run's cohort, and the threshold its test evaluation chose for it, the equal-error-rate one).
/// </summary>
public sealed class FaceVerifier
{
    private readonly FaceEmbedder _model;

    public FaceVerifier(FaceEmbedder model, FaceModelShape shape, VerificationDecision decision)
    {
        // The network's embedding length, not the shape's: with parts it is their lengths summed.
        if (decision.ScoreNorm != "cosine" && decision.Dimension != model.Dimension)
            throw new InvalidDataException($"the run's cohort has embeddings of {decision.Dimension}, its network gives {model.Dimension}");
        (_model, Shape, Decision) = (model, shape, decision);
        _model.Eval();
    }

    public FaceModelShape Shape { get; }

    public VerificationDecision Decision { get; }

    /// <summary>Score (cosine, or AS-norm) at or above which two pictures are judged the same identity.</summary>
    public double Threshold => Decision.Threshold;

    /// <summary>
    /// The run in <paramref name="folder"/>, deciding by <paramref name="score"/> ("cosine" or "asnorm") or, when null, by
    /// the score it was evaluated with; with <paramref name="cohortFolder"/>, by the run's in-domain score (AS-norm or
    /// neighbour overlap) against the images in that folder (<see cref="CohortImages"/>) at the run's in-domain K and threshold.
    /// </summary>
    public static FaceVerifier Load(RunFolder folder, string verb, string? score = null, string? cohortFolder = null)
    {
        TrainedWeights.ReadConfig(folder, FaceVerificationTask.TaskName, verb);
        if (cohortFolder is not null && score is not null)
            throw new ArgumentException($"--cohort scores by the in-domain score the run chose on held-out validation; it does not go with --score-norm {score}");
        var shape = FaceVerificationData.ReadShape(folder);
        var model = FaceVerificationTask.CreateModel(shape);
        TrainedWeights.Load(model, folder);
        var decision = FaceVerificationEvaluation.ReadDecision(folder);
        var verifier = new FaceVerifier(model, shape, score is null ? decision : decision.Using(score, folder.Path));
        return cohortFolder is null ? verifier : new FaceVerifier(model, shape, decision.WithCohort(verifier.Embed(CohortImages(cohortFolder)), folder.Path));
    }

    /// <summary>
    /// The image files (by extension, <see cref="ImageFolder.Extensions"/>) anywhere under <paramref name="folder"/>, in
    /// ordinal order: an unlabelled cohort, so sub-folders are read but mean nothing.
    /// </summary>
    public static IReadOnlyList<string> CohortImages(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"--cohort {folder}: no such folder");
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => ImageFolder.Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
        return files.Count >= 2 ? files : throw new InvalidDataException($"--cohort {folder}: {files.Count} images ({string.Join(", ", ImageFolder.Extensions)}); AS-norm needs at least 2");
    }

    /// <summary>Embeddings [N, D] of image files, each read as the run's images were (channels and size).</summary>
    public float[] Embed(IReadOnlyList<string> images)
    {
        int c = Shape.InputShape[0], h = Shape.InputShape[1], w = Shape.InputShape[2];
        var pixels = new float[images.Count * c * h * w];
        for (int i = 0; i < images.Count; i++)
            ImageReader.Read(images[i], (h, w), c).ToArray<float>().CopyTo(pixels, i * c * h * w);
        return FaceVerificationEvaluation.Embed(_model, Tensor.FromArray(pixels, images.Count, c, h, w));
    }

    /// <summary>The score of two pictures' embeddings (their cosine, or its AS-norm) and whether it reaches <see cref="Threshold"/>.</summary>
    public (double Similarity, bool Same) Verify(string first, string second)
    {
        double s = Decision.ScoresOf(Embed([first, second]), _model.Dimension)[0, 1];
        return (s, s >= Threshold);
    }

    /// <summary>Verification figures on an LFW-format folder's pairs.txt: equal error rate, TAR at FAR 1e-2, and accuracy at the run's threshold.</summary>
    public (int Pairs, double Eer, double TarAtFar1e2, double Accuracy) Evaluate(string lfwFolder)
    {
        var pairs = LfwPairs.Read(lfwFolder);
        var files = pairs.SelectMany(p => new[] { p.First, p.Second }).Distinct().ToList();
        var index = files.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i);
        var pairScores = Decision.ScoresOf(Embed(files), _model.Dimension);
        var scores = pairs.Select(p => pairScores[index[p.First], index[p.Second]]).ToArray();
        var same = pairs.Select(p => p.Same).ToArray();
        var roc = Verification.Roc(scores, same);
        double accuracy = scores.Zip(same, (s, y) => (s >= Threshold) == y).Count(ok => ok) / (double)pairs.Count;
        return (pairs.Count, Verification.EqualErrorRate(roc).Rate, Verification.TrueAcceptRateAt(roc, 1e-2).Rate, accuracy);
    }
}
