namespace Loom.Models;

/// <summary>
/// Mean average precision of detections over a set of images: mAP at one IoU threshold (mAP@0.5, Pascal VOC's figure)
/// and COCO's mAP@[0.5:0.95], the mean over the thresholds 0.50, 0.55, …, 0.95. Add each image's ground truth and
/// predictions with <c>Add</c>, then read <see cref="At"/> and <see cref="Coco"/>.
/// </summary>
/// <remarks>
/// Per class, predictions of all images are ranked by score (ties in the order added); each is a true positive when it
/// overlaps a not yet matched ground-truth box of its class in its image with IoU ≥ the threshold (the best such box,
/// as COCO matches), else a false positive: a second detection of a matched object counts against precision. AP is the
/// area under the precision–recall curve with precision made monotone (the all-point interpolation of VOC 2010 and
/// later; COCO samples the same curve at 101 recall points, which differs slightly). Classes without ground truth are
/// left out of the mean; a class with ground truth but no predictions has AP 0. Objects marked ignored (VOC's
/// "difficult", or those outside a subset being scored) count neither way: they are not positives, and a prediction
/// that matches only an ignored object is neither a hit nor a false alarm.
/// </remarks>
public sealed class MeanAveragePrecision
{
    private readonly List<(IReadOnlyList<Detection> Truth, IReadOnlyList<Detection> Predicted, bool[] Ignored)> _images = [];

    public MeanAveragePrecision(int classes)
    {
        if (classes < 1) throw new ArgumentException($"MeanAveragePrecision: needs at least one class, got {classes}");
        Classes = classes;
    }

    public int Classes { get; }

    public int Images => _images.Count;

    /// <summary>The thresholds of COCO's mAP@[0.5:0.95].</summary>
    public static IReadOnlyList<double> CocoThresholds { get; } = Enumerable.Range(0, 10).Select(i => 0.5 + 0.05 * i).ToArray();

    /// <summary>One image: its annotated objects (their scores are ignored) and the detections predicted for it.</summary>
    public void Add(IReadOnlyList<Detection> truth, IReadOnlyList<Detection> predicted) => Add(truth, predicted, new bool[truth.Count]);

    /// <summary>One image, with the annotated objects that are <paramref name="ignored"/> (one flag per object of <paramref name="truth"/>).</summary>
    public void Add(IReadOnlyList<Detection> truth, IReadOnlyList<Detection> predicted, IReadOnlyList<bool> ignored)
    {
        if (ignored.Count != truth.Count) throw new ArgumentException($"MeanAveragePrecision: {ignored.Count} ignore flags for {truth.Count} objects");
        foreach (var d in truth.Concat(predicted))
            if (d.Class < 0 || d.Class >= Classes) throw new ArgumentException($"MeanAveragePrecision: class {d.Class} is outside 0..{Classes - 1}");
        _images.Add((truth.ToArray(), predicted.ToArray(), ignored.ToArray()));
    }

    /// <summary>AP of each class at <paramref name="iouThreshold"/> (NaN for a class without ground truth) and their mean over classes with ground truth (NaN if none has).</summary>
    public (double Mean, double[] PerClass) At(double iouThreshold)
    {
        var ap = new double[Classes];
        for (int c = 0; c < Classes; c++) ap[c] = AveragePrecision(c, iouThreshold);
        var present = ap.Where(v => !double.IsNaN(v)).ToArray();
        return (present.Length == 0 ? double.NaN : present.Average(), ap);
    }

    /// <summary>COCO's mAP@[0.5:0.95]: <see cref="At"/>'s mean averaged over <see cref="CocoThresholds"/>.</summary>
    public double Coco => CocoThresholds.Average(t => At(t).Mean);

    private double AveragePrecision(int c, double threshold)
    {
        int positives = _images.Sum(im => im.Truth.Where((d, g) => d.Class == c && !im.Ignored[g]).Count());
        if (positives == 0) return double.NaN;
        var ranked = _images.SelectMany((im, i) => im.Predicted.Where(d => d.Class == c).Select(d => (Image: i, d.Box, d.Score)))
            .Select((p, order) => (p, order)).OrderByDescending(q => q.p.Score).ThenBy(q => q.order).Select(q => q.p).ToList();
        var matched = _images.Select(im => new bool[im.Truth.Count]).ToArray();
        var precision = new List<double>(ranked.Count);
        var recall = new List<double>(ranked.Count);
        int tp = 0, scored = 0;
        foreach (var (image, box, _) in ranked)
        {
            var (truth, _, ignored) = _images[image];
            // The best unmatched counted object, as COCO; failing that, an ignored object it overlaps enough.
            int best = -1;
            double bestIoU = threshold;
            bool matchesIgnored = false;
            for (int g = 0; g < truth.Count; g++)
            {
                if (truth[g].Class != c) continue;
                double iou = Box.IoU(truth[g].Box, box);
                // IoU 0 never matches, even at threshold 0: a detection must overlap its object.
                if (iou < threshold || iou <= 0) continue;
                if (ignored[g]) matchesIgnored = true;
                else if (!matched[image][g] && (best < 0 || iou > bestIoU)) (best, bestIoU) = (g, iou);
            }
            if (best >= 0)
            {
                matched[image][best] = true;
                tp++;
            }
            else if (matchesIgnored) continue;
            scored++;
            precision.Add(tp / (double)scored);
            recall.Add(tp / (double)positives);
        }
        // Area under the monotone envelope: precision at recall r is the best precision at any recall ≥ r.
        for (int k = precision.Count - 2; k >= 0; k--) precision[k] = Math.Max(precision[k], precision[k + 1]);
        double area = 0, previousRecall = 0;
        for (int k = 0; k < precision.Count; k++)
        {
            area += (recall[k] - previousRecall) * precision[k];
            previousRecall = recall[k];
        }
        return area;
    }
}
