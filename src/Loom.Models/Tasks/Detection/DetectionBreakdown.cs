namespace Loom.Models;

/// <summary>
/// Where a detector loses average precision on composed scenes: AP@0.5 on subsets of the objects (by size, cut by the
/// border or not, overlapped by another object or not; the other objects ignored, as COCO scores its area ranges), and
/// at one score threshold what became of every object (found, found as another class, found with a loose box, missed)
/// and of every detection (a hit, a duplicate, another class's object, a loose box, background), with the mean IoU of
/// the hits and the precision of each score band (is a score of 0.7 right 70 % of the time?).
/// </summary>
public sealed class DetectionBreakdown
{
    private readonly List<(IReadOnlyList<Detection> Truth, IReadOnlyList<Detection> Predicted)> _images = [];

    public DetectionBreakdown(int classes, int canvas, double scoreThreshold = 0.3)
    {
        if (classes < 1 || canvas < 1 || !(scoreThreshold > 0 && scoreThreshold < 1))
            throw new ArgumentException($"DetectionBreakdown: needs classes ≥ 1, a canvas ≥ 1 and a score threshold in (0, 1), got {classes}, {canvas}, {scoreThreshold}");
        (Classes, Canvas, ScoreThreshold) = (classes, canvas, scoreThreshold);
    }

    public int Classes { get; }
    public int Canvas { get; }
    public double ScoreThreshold { get; }

    /// <summary>Side (√area) below which an object counts as small and above which as large, in pixels.</summary>
    public const double SmallSide = 16, LargeSide = 28;

    public void Add(IReadOnlyList<Detection> truth, IReadOnlyList<Detection> predicted) => _images.Add((truth.ToArray(), predicted.ToArray()));

    /// <summary>An object touching the canvas's edge: the border cut it (composed objects never touch it otherwise by chance often enough to matter).</summary>
    public bool IsCut(Box b) => b.X1 <= 0 || b.Y1 <= 0 || b.X2 >= Canvas || b.Y2 >= Canvas;

    /// <summary>The largest share of <paramref name="object"/>'s box that another object's box covers.</summary>
    public static double Covered(IReadOnlyList<Detection> truth, int @object)
    {
        var a = truth[@object].Box;
        double most = 0;
        for (int g = 0; g < truth.Count; g++)
        {
            if (g == @object || a.Area <= 0) continue;
            var b = truth[g].Box;
            double w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1), h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
            if (w > 0 && h > 0) most = Math.Max(most, w * h / a.Area);
        }
        return most;
    }

    /// <summary>The subsets AP@0.5 is reported on: a name and which objects of a scene belong.</summary>
    public IReadOnlyList<(string Name, Func<IReadOnlyList<Detection>, int, bool> Member)> Subsets =>
    [
        ("all", (_, _) => true),
        ($"small (side < {SmallSide} px)", (t, g) => Side(t[g].Box) < SmallSide),
        ($"medium", (t, g) => Side(t[g].Box) is >= SmallSide and <= LargeSide),
        ($"large (side > {LargeSide} px)", (t, g) => Side(t[g].Box) > LargeSide),
        ("inside the canvas", (t, g) => !IsCut(t[g].Box)),
        ("cut by the border", (t, g) => IsCut(t[g].Box)),
        ("cut, narrower than 8 px", (t, g) => IsCut(t[g].Box) && Math.Min(t[g].Box.Width, t[g].Box.Height) < 8),
        ("not overlapped", (t, g) => Covered(t, g) == 0),
        ("overlapped by < 30 %", (t, g) => Covered(t, g) is > 0 and < 0.3),
        ("overlapped by ≥ 30 %", (t, g) => Covered(t, g) >= 0.3),
    ];

    private static double Side(Box b) => Math.Sqrt(b.Area);

    /// <summary>AP@0.5 and the number of objects of each subset.</summary>
    public ResultTable SubsetTable()
    {
        var rows = new List<IReadOnlyList<Cell>>();
        foreach (var (name, member) in Subsets)
        {
            var map = new MeanAveragePrecision(Classes);
            int count = 0;
            foreach (var (truth, predicted) in _images)
            {
                var ignored = truth.Select((_, g) => !member(truth, g)).ToArray();
                count += ignored.Count(i => !i);
                map.Add(truth, predicted, ignored);
            }
            rows.Add([name, (long)count, count == 0 ? double.NaN : map.At(0.5).Mean]);
        }
        return new ResultTable("AP@0.5 by kind of object (the others ignored)", ["objects", "count", "AP@0.5"], rows);
    }

    /// <summary>What became of objects and detections scoring at least <see cref="ScoreThreshold"/>, and the mean IoU of the hits.</summary>
    public (long Found, long WrongClass, long Loose, long Missed, long Hits, long Duplicates, long OtherClass, long LooseBox, long Background, double MeanHitIoU) Outcomes()
    {
        long found = 0, wrongClass = 0, loose = 0, missed = 0, hits = 0, duplicates = 0, otherClass = 0, looseBox = 0, background = 0;
        double iouSum = 0;
        foreach (var (truth, all) in _images)
        {
            var predicted = all.Where(d => d.Score >= ScoreThreshold).OrderByDescending(d => d.Score).ToList();
            var matched = new bool[truth.Count];
            foreach (var d in predicted)
            {
                // The same matching as mAP@0.5: the best unmatched object of the detection's class.
                int best = -1;
                double bestIoU = 0.5;
                bool duplicate = false;
                for (int g = 0; g < truth.Count; g++)
                {
                    if (truth[g].Class != d.Class) continue;
                    double iou = Box.IoU(truth[g].Box, d.Box);
                    if (iou < 0.5) continue;
                    if (matched[g]) duplicate = true;
                    else if (best < 0 || iou > bestIoU) (best, bestIoU) = (g, iou);
                }
                if (best >= 0)
                {
                    matched[best] = true;
                    hits++;
                    iouSum += bestIoU;
                }
                else if (duplicate) duplicates++;
                else if (truth.Any(t => t.Class != d.Class && Box.IoU(t.Box, d.Box) >= 0.5)) otherClass++;
                else if (truth.Any(t => t.Class == d.Class && Box.IoU(t.Box, d.Box) >= 0.1)) looseBox++;
                else background++;
            }
            for (int g = 0; g < truth.Count; g++)
            {
                if (matched[g]) found++;
                else if (predicted.Any(d => d.Class != truth[g].Class && Box.IoU(truth[g].Box, d.Box) >= 0.5)) wrongClass++;
                else if (predicted.Any(d => d.Class == truth[g].Class && Box.IoU(truth[g].Box, d.Box) >= 0.1)) loose++;
                else missed++;
            }
        }
        return (found, wrongClass, loose, missed, hits, duplicates, otherClass, looseBox, background, hits == 0 ? double.NaN : iouSum / hits);
    }

    /// <summary><see cref="Outcomes"/> as a table.</summary>
    public ResultTable OutcomeTable()
    {
        var o = Outcomes();
        string at = $"score ≥ {ScoreThreshold}";
        return new ResultTable($"Objects and detections at {at} (IoU 0.5; loose: IoU 0.1–0.5)", ["outcome", "count"],
        [
            ["objects found", o.Found], ["objects found only as another class", o.WrongClass], ["objects found only with a loose box", o.Loose],
            ["objects missed", o.Missed], ["detections: hits", o.Hits], ["detections: duplicates of a hit", o.Duplicates],
            ["detections: another class's object", o.OtherClass], ["detections: loose boxes", o.LooseBox], ["detections: background", o.Background],
            ["mean IoU of the hits", o.MeanHitIoU],
        ]);
    }

    /// <summary>Detections per score band and the share of them that are hits at IoU 0.5 (matched as mAP does, best score first).</summary>
    public ResultTable CalibrationTable()
    {
        var bands = new (long Count, long Hits)[10];
        foreach (var (truth, predicted) in _images)
        {
            var matched = new bool[truth.Count];
            foreach (var d in predicted.OrderByDescending(p => p.Score))
            {
                int best = -1;
                double bestIoU = 0.5;
                for (int g = 0; g < truth.Count; g++)
                {
                    if (truth[g].Class != d.Class || matched[g]) continue;
                    double iou = Box.IoU(truth[g].Box, d.Box);
                    if (iou >= bestIoU && (best < 0 || iou > bestIoU)) (best, bestIoU) = (g, iou);
                }
                int band = Math.Clamp((int)(d.Score * 10), 0, 9);
                bands[band].Count++;
                if (best >= 0)
                {
                    matched[best] = true;
                    bands[band].Hits++;
                }
            }
        }
        return new ResultTable("Detections per score band", ["score", "detections", "hits"],
            [.. bands.Select((b, i) => (IReadOnlyList<Cell>)[$"{i / 10.0:0.0}–{(i + 1) / 10.0:0.0}", b.Count, b.Count == 0 ? double.NaN : b.Hits / (double)b.Count])]);
    }
}
