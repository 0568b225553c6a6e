using System.Text.Json;
using System.Text.Json.Nodes;
using Loom.Autograd;
using Loom.Data;
using Loom.Memory;
using Loom.Random;
using Loom.Train;

namespace Loom.Models;

/// <summary>
/// Open-set evaluation of an embedding on classes it never trained on: the ROC of cosine similarities of test pairs
/// (half of one class, half of two), its equal error rate and threshold, the true accept rate at FAR 1e-2, and top-1
/// identification by nearest neighbour among the held-out test images. The test loss is NaN: the CosFace head knows
/// only the training classes, so there is no loss on held-out ones.
/// </summary>
public sealed class FaceVerificationEvaluation : TaskEvaluation
{
    public const string ThresholdFile = "verification.json";

    /// <summary>The sequence test pairs are drawn from; fixed, so every run is scored on the same pairs.</summary>
    public const ulong PairSeed = 0xFACE5;

    private FaceVerificationEvaluation(EvaluationResult result, IReadOnlyList<RocPoint> roc, double threshold) : base(result)
    {
        Roc = roc;
        Threshold = threshold;
        Tables =
        [
            new ResultTable("Open-set verification (held-out classes)", ["FAR at most", "TAR", "threshold"],
                [.. new[] { 1e-3, 1e-2, 1e-1 }.Select(far => Verification.TrueAcceptRateAt(roc, far)).Zip([1e-3, 1e-2, 1e-1], (t, far) => (IReadOnlyList<Cell>)[far, t.Rate, t.Threshold])]),
        ];
    }

    public IReadOnlyList<RocPoint> Roc { get; }

    /// <summary>The equal-error-rate threshold, which `loom faces verify` decides at.</summary>
    public double Threshold { get; }

    public override IReadOnlyList<ResultTable> Tables { get; }

    /// <summary>Writes <see cref="ThresholdFile"/> (the decision threshold of `loom faces verify`); no figure.</summary>
    public override IReadOnlyList<string> WritePlots(RunFolder folder)
    {
        File.WriteAllText(folder.File(ThresholdFile), new JsonObject { ["threshold"] = Threshold, ["eer"] = Metrics["eer"] }.ToJsonString());
        return [];
    }

    /// <summary>The decision threshold a run's evaluation wrote.</summary>
    public static double ReadThreshold(RunFolder folder)
    {
        var path = folder.File(ThresholdFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder.Path} has no {ThresholdFile}: the run has not finished its test evaluation", path);
        try
        {
            return (double?)JsonNode.Parse(File.ReadAllText(path))?["threshold"] is double t && double.IsFinite(t)
                ? t
                : throw new InvalidDataException($"{path}: expected {{\"threshold\": number}}, as loom train writes it");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: expected {{\"threshold\": number}}, as loom train writes it");
        }
    }

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
        var embeddings = Embed(model, data.Test.Inputs);
        var labels = data.Test.Targets.ToArray<long>().Select(t => (int)t).ToArray();
        var (scores, same) = Pairs(embeddings, model.Dimension, labels, pairs);
        var roc = Verification.Roc(scores, same);
        var (eer, threshold) = Verification.EqualErrorRate(roc);
        var metrics = new Dictionary<string, double>
        {
            ["eer"] = eer,
            ["tar_at_far_1e-2"] = Verification.TrueAcceptRateAt(roc, 1e-2).Rate,
            ["top1_identification"] = Verification.NearestNeighbourAccuracy(embeddings, model.Dimension, labels),
        };
        return new FaceVerificationEvaluation(new EvaluationResult(double.NaN, metrics, labels.Length), roc, threshold);
    }

    /// <summary>Cosine similarities of <paramref name="count"/> pairs of different images, half of one class and half of two, drawn by <see cref="PairSeed"/>.</summary>
    public static (double[] Scores, bool[] Same) Pairs(float[] embeddings, int dimension, int[] labels, int count)
    {
        var byClass = labels.Select((c, i) => (c, i)).GroupBy(p => p.c).ToDictionary(g => g.Key, g => g.Select(p => p.i).ToArray());
        if (byClass.Count < 2 || byClass.Values.All(v => v.Length < 2))
            throw new InvalidDataException("face verification needs test images of at least two classes, one with two or more images");
        var g = new Generator(PairSeed);
        var scores = new double[count];
        var same = new bool[count];
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
            same[k] = labels[i] == labels[j];
            scores[k] = System.Numerics.Tensors.TensorPrimitives.Dot(embeddings.AsSpan(i * dimension, dimension), embeddings.AsSpan(j * dimension, dimension));
        }
        return (scores, same);
    }
}
