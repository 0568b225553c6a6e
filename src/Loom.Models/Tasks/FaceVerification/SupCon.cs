namespace Loom.Models;

/// <summary>
/// Supervised contrastive learning (Khosla et al. 2020, SupCon) blended with instance discrimination (SimCLR's
/// NT-Xent, Chen et al. 2020): the loss of `--loss supcon`. Every image comes as several random views; each view's
/// projection is compared by cosine / τ with every other view in the batch, and the loss is the negative log of the
/// softmax share its positives get. The class term's positives are all other views of the same class (SupCon's L_out);
/// the instance term's are only the other views of the same image. A margin loss on 7 training identities collapses
/// each class to a point and keeps only what separates those 7; the instance term keeps apart images of one class
/// that differ, which is the variation unseen identities differ by.
/// </summary>
public static class SupCon
{
    /// <summary>
    /// The mean loss of projections [N, V, P] (V views of each of N images; rows need not have unit length, they are
    /// normalised here) against class indices [N]: (1 − w)·class term + w·instance term, w = <paramref name="instanceWeight"/>.
    /// Each term is −1/|P(a)| Σ_{p∈P(a)} log softmax_a(p) over the other views, averaged over the anchors a that have
    /// positives. With one view (validation batches) there are no instance positives, and the loss is the class term alone
    /// (0 when no two images share a class).
    /// </summary>
    public static Tensor Loss(Tensor projections, Tensor targets, double temperature = 0.1, double instanceWeight = 0.5)
    {
        if (projections.Rank != 3 || targets.Rank != 1 || targets.Shape[0] != projections.Shape[0])
            throw new ArgumentException($"SupCon.Loss: expected projections [N, views, P] and targets [N], got {projections.Shape} and {targets.Shape}");
        if (!(temperature > 0) || !(instanceWeight >= 0 && instanceWeight <= 1))
            throw new ArgumentException($"SupCon.Loss: needs temperature > 0 and an instance weight in [0, 1], got {temperature} and {instanceWeight}");
        int n = projections.Shape[0], views = projections.Shape[1], m = n * views;
        var z = CosFace.Normalize(projections.Reshape(m, projections.Shape[2]));
        // A view is not its own positive or negative: the diagonal is pushed far below every cosine / τ (finite, so that
        // 0 · it stays 0 in the masked sums below).
        var self = Tensor.Eye(m, dtype: z.DType);
        var logProbabilities = (z.Matmul(z.Transpose(0, 1)) / temperature - self * 1e9).LogSoftmax(1);
        var labels = targets.To(DType.Int64).ToArray<long>();
        var sameClass = new double[m * m];
        var sameImage = new double[m * m];
        for (int a = 0; a < m; a++)
            for (int p = 0; p < m; p++)
            {
                if (a == p) continue;
                if (labels[a / views] == labels[p / views]) sameClass[a * m + p] = 1;
                if (a / views == p / views) sameImage[a * m + p] = 1;
            }
        // The instance term alone (w = 1, as WithMargin asks for it) has no use for the class term.
        var classTerm = views > 1 && instanceWeight == 1 ? null : Term(logProbabilities, sameClass, m);
        // A batch of single views whose classes are all distinct (a last batch of one image) has nothing to pull
        // together: it adds 0, still connected to the graph.
        if (views == 1 || instanceWeight == 0) return classTerm ?? (logProbabilities * 0).Sum();
        var instanceTerm = Term(logProbabilities, sameImage, m)!;
        if (instanceWeight == 1 || classTerm is null) return instanceTerm;
        return classTerm * (1 - instanceWeight) + instanceTerm * instanceWeight;
    }

    /// <summary>
    /// A margin loss with the instance term: <paramref name="output"/> [N, V, classes + P] holds each view's cosines to
    /// the <paramref name="classes"/> training identities, then its projection. (1 − w)·<paramref name="margin"/> over
    /// every view + w·the instance term (<see cref="Loss"/> with w = 1); with one view (validation), the margin loss alone.
    /// </summary>
    public static Tensor WithMargin(Tensor output, Tensor targets, int classes, Func<Tensor, Tensor, Tensor> margin, double temperature, double instanceWeight)
    {
        if (output.Rank != 3 || output.Shape[2] <= classes || targets.Rank != 1 || targets.Shape[0] != output.Shape[0])
            throw new ArgumentException($"SupCon.WithMargin: expected [N, views, {classes} + P] and targets [N], got {output.Shape} and {targets.Shape}");
        int n = output.Shape[0], views = output.Shape[1];
        var labels = targets.To(DType.Int64).ToArray<long>();
        var perView = Tensor.FromArray([.. Enumerable.Range(0, n * views).Select(i => labels[i / views])], n * views);
        var marginTerm = margin(output.Narrow(2, 0, classes).Reshape(n * views, classes), perView);
        if (views == 1) return marginTerm;
        var instanceTerm = Loss(output.Narrow(2, classes, output.Shape[2] - classes), targets, temperature, instanceWeight: 1);
        return marginTerm * (1 - instanceWeight) + instanceTerm * instanceWeight;
    }

    // The mean over anchors with positives of −(mean log-probability of their positives); null when no anchor has one.
    private static Tensor? Term(Tensor logProbabilities, double[] positives, int m)
    {
        var perAnchor = new double[m];
        for (int a = 0; a < m; a++)
            for (int p = 0; p < m; p++) perAnchor[a] += positives[a * m + p];
        int anchors = perAnchor.Count(c => c > 0);
        if (anchors == 0) return null;
        // Each positive weighs 1 / (|P(a)| · anchors), so the sum is the mean over anchors of their positives' mean.
        var weights = new double[m * m];
        for (int a = 0; a < m; a++)
            for (int p = 0; p < m; p++)
                if (positives[a * m + p] > 0) weights[a * m + p] = 1 / (perAnchor[a] * anchors);
        return -(logProbabilities * Tensor.FromArray(weights, m, m).To(logProbabilities.DType)).Sum();
    }
}
