namespace Loom.Models;

/// <summary>
/// An axis-aligned box in pixel coordinates, corners (X1, Y1) top-left and (X2, Y2) bottom-right, with continuous
/// coordinates: a box covering pixel columns 3..5 is X1 = 3, X2 = 6, width 3 (COCO's convention; VOC's inclusive
/// 1-based corners are converted by the VOC reader).
/// </summary>
public readonly record struct Box(double X1, double Y1, double X2, double Y2)
{
    public double Width => Math.Max(0, X2 - X1);
    public double Height => Math.Max(0, Y2 - Y1);
    public double Area => Width * Height;

    /// <summary>Intersection over union; 0 when either box has no area (a zero-area box overlaps nothing), never NaN.</summary>
    public static double IoU(Box a, Box b)
    {
        double w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1), h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0) return 0; // disjoint, or only touching along an edge or at a corner
        double inter = w * h, union = a.Area + b.Area - inter;
        return union > 0 ? inter / union : 0;
    }

    public override string ToString() => $"({X1:0.#}, {Y1:0.#})–({X2:0.#}, {Y2:0.#})";
}

/// <summary>A detected or annotated object: its box, class index and confidence (1 for annotations).</summary>
public readonly record struct Detection(Box Box, int Class, double Score = 1);

/// <summary>Non-maximum suppression.</summary>
public static class Nms
{
    /// <summary>
    /// Greedy non-maximum suppression per class: visit detections by decreasing score (ties in input order) and keep one
    /// unless it overlaps a kept detection of its class with IoU above <paramref name="iouThreshold"/> (strictly, as
    /// torchvision's nms). Detections of different classes never suppress each other. Returns the kept detections by
    /// decreasing score.
    /// </summary>
    public static IReadOnlyList<Detection> Apply(IEnumerable<Detection> detections, double iouThreshold = 0.5)
    {
        if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "NMS: the IoU threshold must lie in [0, 1]");
        var ordered = detections.Select((d, i) => (d, i)).OrderByDescending(p => p.d.Score).ThenBy(p => p.i).Select(p => p.d).ToList();
        var kept = new List<Detection>();
        foreach (var d in ordered)
            if (!kept.Any(k => k.Class == d.Class && Box.IoU(k.Box, d.Box) > iouThreshold)) kept.Add(d);
        return kept;
    }
}
