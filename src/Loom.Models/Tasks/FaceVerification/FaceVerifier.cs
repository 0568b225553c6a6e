using Loom.Data;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// A trained face-verification run ready for pictures (`loom faces verify`, `loom faces pairs`): the embedding
/// network, the image shape it takes and the decision threshold its test evaluation chose (the equal-error-rate one).
/// </summary>
public sealed class FaceVerifier
{
    private readonly FaceEmbedder _model;

    public FaceVerifier(FaceEmbedder model, FaceModelShape shape, double threshold)
    {
        (_model, Shape, Threshold) = (model, shape, threshold);
        _model.Eval();
    }

    public FaceModelShape Shape { get; }

    /// <summary>Cosine similarity at or above which two pictures are judged the same identity.</summary>
    public double Threshold { get; }

    public static FaceVerifier Load(RunFolder folder, string verb)
    {
        TrainedWeights.ReadConfig(folder, FaceVerificationTask.TaskName, verb);
        var shape = FaceVerificationData.ReadShape(folder);
        var model = FaceVerificationTask.CreateModel(shape);
        TrainedWeights.Load(model, folder);
        return new FaceVerifier(model, shape, FaceVerificationEvaluation.ReadThreshold(folder));
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

    /// <summary>The cosine similarity of two pictures' embeddings and whether it reaches <see cref="Threshold"/>.</summary>
    public (double Similarity, bool Same) Verify(string first, string second)
    {
        var e = Embed([first, second]);
        int d = Shape.Embedding;
        double s = System.Numerics.Tensors.TensorPrimitives.Dot(e.AsSpan(0, d), e.AsSpan(d, d));
        return (s, s >= Threshold);
    }

    /// <summary>Verification figures on an LFW-format folder's pairs.txt: equal error rate, TAR at FAR 1e-2, and accuracy at the run's threshold.</summary>
    public (int Pairs, double Eer, double TarAtFar1e2, double Accuracy) Evaluate(string lfwFolder)
    {
        var pairs = LfwPairs.Read(lfwFolder);
        var files = pairs.SelectMany(p => new[] { p.First, p.Second }).Distinct().ToList();
        var index = files.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i);
        var e = Embed(files);
        int d = Shape.Embedding;
        var scores = pairs.Select(p => (double)System.Numerics.Tensors.TensorPrimitives.Dot(e.AsSpan(index[p.First] * d, d), e.AsSpan(index[p.Second] * d, d))).ToArray();
        var same = pairs.Select(p => p.Same).ToArray();
        var roc = Verification.Roc(scores, same);
        double accuracy = scores.Zip(same, (s, y) => (s >= Threshold) == y).Count(ok => ok) / (double)pairs.Count;
        return (pairs.Count, Verification.EqualErrorRate(roc).Rate, Verification.TrueAcceptRateAt(roc, 1e-2).Rate, accuracy);
    }
}
