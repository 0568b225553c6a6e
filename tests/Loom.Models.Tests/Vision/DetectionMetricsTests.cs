using System.Globalization;

namespace Loom.Models.Tests.Vision;

/// <summary>IoU, non-maximum suppression and mean average precision against cases worked out by hand.</summary>
public sealed class DetectionMetricsTests
{
    private static Detection D(double x1, double y1, double x2, double y2, int c = 0, double score = 1) => new(new Box(x1, y1, x2, y2), c, score);

    [Fact]
    public void IoU_of_overlapping_touching_nested_and_empty_boxes()
    {
        Assert.Equal(1, Box.IoU(new(1, 2, 5, 7), new(1, 2, 5, 7)));
        // 2×2 overlap of two 4×4 boxes: 4 / (16 + 16 − 4).
        Assert.Equal(4.0 / 28, Box.IoU(new(0, 0, 4, 4), new(2, 2, 6, 6)), 12);
        Assert.Equal(0, Box.IoU(new(0, 0, 4, 4), new(4, 0, 8, 4)));  // sharing an edge
        Assert.Equal(0, Box.IoU(new(0, 0, 4, 4), new(4, 4, 8, 8)));  // sharing a corner
        Assert.Equal(0.25, Box.IoU(new(0, 0, 4, 4), new(1, 1, 3, 3))); // nested: inner area over outer area
        Assert.Equal(0, Box.IoU(new(2, 2, 2, 5), new(0, 0, 4, 4)));  // zero width
        Assert.Equal(0, Box.IoU(new(2, 2, 2, 2), new(2, 2, 2, 2)));  // a point, even with itself: 0, not NaN
        Assert.Equal(0, new Box(5, 5, 3, 3).Area);                    // inverted corners have no area
    }

    [Fact]
    public void Nms_keeps_the_best_of_each_overlapping_group_per_class()
    {
        var big = D(0, 0, 4, 4, score: 0.9);
        var nested = D(1, 1, 3, 3, score: 0.8);     // IoU 0.25 with big
        var shifted = D(0, 0, 4, 3, score: 0.95);   // IoU 0.75 with big
        var touching = D(4, 0, 8, 4, score: 0.7);   // IoU 0 with big
        var otherClass = D(0, 0, 4, 4, c: 1, score: 0.5);
        var point = D(2, 2, 2, 2, score: 0.99);

        var kept = Nms.Apply([big, nested, shifted, touching, otherClass, point], 0.5);
        Assert.Equal([point, shifted, nested, touching, otherClass], kept);
        // At 0.2 the nested box goes too: big is suppressed already, but nested overlaps shifted with IoU 4/12.
        Assert.Equal([point, shifted, touching, otherClass], Nms.Apply([big, nested, shifted, touching, otherClass, point], 0.2));
        // IoU exactly at the threshold does not suppress (strictly above does, as torchvision).
        var half = D(0, 0, 1, 1, score: 0.5);
        Assert.Equal(2, Nms.Apply([D(0, 0, 2, 1, score: 0.6), half], 0.5).Count);
        // Equal scores: the first given wins.
        Assert.Equal([big], Nms.Apply([big, big with { Box = new(0, 0, 4, 3.9) }], 0.5));
        Assert.Empty(Nms.Apply([], 0.5));
    }

    [Fact]
    public void Exact_detections_give_one_and_no_detections_give_zero()
    {
        var perfect = new MeanAveragePrecision(2);
        perfect.Add([D(0, 0, 4, 4), D(10, 10, 20, 20, c: 1)], [D(10, 10, 20, 20, c: 1, score: 0.3), D(0, 0, 4, 4, score: 0.6)]);
        Assert.Equal(1, perfect.At(0.5).Mean);
        Assert.Equal(1, perfect.Coco);

        var none = new MeanAveragePrecision(2);
        none.Add([D(0, 0, 4, 4), D(10, 10, 20, 20, c: 1)], []);
        none.Add([], []);
        Assert.Equal(0, none.At(0.5).Mean);
        Assert.Equal(0, none.Coco);
        Assert.True(double.IsNaN(new MeanAveragePrecision(1).At(0.5).Mean)); // nothing to find: undefined, not 0 or 1
    }

    [Fact]
    public void A_duplicate_is_a_false_positive_and_the_threshold_decides_which_one_matches()
    {
        var map = new MeanAveragePrecision(1);
        // Ground truth 10×10; the better-scored detection overlaps it with IoU 0.6, the other exactly.
        map.Add([D(0, 0, 10, 10)], [D(0, 0, 10, 6, score: 0.9), D(0, 0, 10, 10, score: 0.8)]);
        // At 0.5 the first is the true positive (precision 1 at recall 1), the exact one a duplicate: AP 1.
        Assert.Equal(1, map.At(0.5).Mean, 12);
        // At 0.75 the first misses (precision 0), the second finds it at precision 1/2: AP 0.5.
        Assert.Equal(0.5, map.At(0.75).Mean, 12);
    }

    [Fact]
    public void A_ranked_list_of_hits_and_misses_gives_the_area_under_the_monotone_curve()
    {
        var map = new MeanAveragePrecision(1);
        // Three objects over two images; by score: hit, miss, hit, miss, hit.
        map.Add([D(0, 0, 10, 10), D(20, 20, 30, 30)], [D(0, 0, 10, 10, score: 0.9), D(50, 50, 60, 60, score: 0.8), D(20, 20, 30, 30, score: 0.7)]);
        map.Add([D(0, 0, 5, 5)], [D(40, 40, 45, 45, score: 0.6), D(0, 0, 5, 5, score: 0.5)]);
        // Precision 1, 1/2, 2/3, 1/2, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1; envelope 1, 2/3, 2/3, 3/5, 3/5:
        // AP = 1/3 · 1 + 1/3 · 2/3 + 1/3 · 3/5.
        Assert.Equal((1 + 2.0 / 3 + 3.0 / 5) / 3, map.At(0.5).Mean, 12);
    }

    [Fact]
    public void Missed_objects_and_several_classes()
    {
        // The right box with the wrong class finds nothing.
        var wrongClass = new MeanAveragePrecision(2);
        wrongClass.Add([D(0, 0, 4, 4)], [D(0, 0, 4, 4, c: 1)]);
        Assert.Equal(0, wrongClass.At(0.5).Mean);

        var map = new MeanAveragePrecision(3);
        // Class 0: both found (AP 1). Class 1: one of two found (AP 1/2). Class 2: no ground truth, one false alarm:
        // left out of the mean.
        map.Add([D(0, 0, 4, 4), D(10, 0, 14, 4), D(0, 10, 4, 14, c: 1), D(10, 10, 14, 14, c: 1)],
            [D(0, 0, 4, 4, score: 0.9), D(10, 0, 14, 4, score: 0.8), D(0, 10, 4, 14, c: 1, score: 0.7), D(0, 20, 4, 24, c: 2, score: 0.95)]);
        var (mean, perClass) = map.At(0.5);
        Assert.Equal(1, perClass[0], 12);
        Assert.Equal(0.5, perClass[1], 12);
        Assert.True(double.IsNaN(perClass[2]));
        Assert.Equal(0.75, mean, 12);
    }

    [Fact]
    public void Coco_map_averages_ten_thresholds()
    {
        var map = new MeanAveragePrecision(1);
        // IoU 0.72: a hit at 0.50, 0.55, 0.60, 0.65, 0.70 and a miss at 0.75 … 0.95.
        map.Add([D(0, 0, 10, 10)], [D(0, 0, 10, 7.2, score: 0.5)]);
        Assert.Equal(0.5, map.Coco, 12);
        Assert.Throws<ArgumentException>(() => map.Add([D(0, 0, 1, 1, c: 1)], []));
    }

    [Fact]
    public void Ignored_objects_are_neither_found_nor_missed_and_their_detections_count_neither_way()
    {
        var map = new MeanAveragePrecision(1);
        // By score: the ignored object's detection (skipped), a false alarm, the counted object's hit.
        map.Add([D(0, 0, 10, 10), D(20, 20, 30, 30)],
            [D(20, 20, 30, 30, score: 0.9), D(50, 50, 60, 60, score: 0.8), D(0, 0, 10, 10, score: 0.7)], [false, true]);
        // Precision 0 then 1/2 at recall 1: AP 1/2. Counted as an object, the first detection would make it 1/2 · 1 + 1/2 · 2/3.
        Assert.Equal(0.5, map.At(0.5).Mean, 12);
        // Second detections of an ignored object are ignored too; one of a counted, matched object is still a duplicate.
        var duplicates = new MeanAveragePrecision(1);
        duplicates.Add([D(0, 0, 10, 10), D(20, 20, 30, 30), D(40, 40, 50, 50)],
            [D(0, 0, 10, 10, score: 0.9), D(20, 20, 30, 30, score: 0.8), D(20, 20, 30, 29, score: 0.7), D(0, 0, 10, 9, score: 0.6), D(40, 40, 50, 50, score: 0.5)],
            [false, true, false]);
        // Counted: hit, duplicate, hit: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; AP 1/2 + 1/2 · 2/3.
        Assert.Equal(0.5 + 0.5 * 2 / 3, duplicates.At(0.5).Mean, 12);
        // Only ignored objects: nothing to score.
        var onlyIgnored = new MeanAveragePrecision(1);
        onlyIgnored.Add([D(0, 0, 10, 10)], [D(0, 0, 10, 10)], [true]);
        Assert.True(double.IsNaN(onlyIgnored.At(0.5).Mean));
        Assert.Throws<ArgumentException>(() => map.Add([D(0, 0, 1, 1)], [], []));
    }

    [Fact]
    public void The_breakdown_sorts_objects_and_detections_by_what_became_of_them()
    {
        var breakdown = new DetectionBreakdown(classes: 2, canvas: 40, scoreThreshold: 0.3);
        var truth = new[]
        {
            D(0, 0, 6, 20),          // cut by the left border, narrow: found exactly
            D(10, 10, 30, 30),       // inside, large: found as class 1 only
            D(25, 25, 35, 35),       // overlapped (by the large one: 25 of its 100 px²): found with a loose box
            D(2, 30, 8, 36, c: 1),   // missed
        };
        var predicted = new[]
        {
            D(0, 0, 6, 20, score: 0.9), D(0, 0, 6, 19, score: 0.8),   // hit, duplicate
            D(10, 10, 30, 30, c: 1, score: 0.7),                      // the large object's box, wrong class
            D(25, 25, 31, 31, score: 0.6),                             // IoU 0.36 with the overlapped object: loose
            D(30, 0, 38, 8, c: 1, score: 0.5),                         // background
            D(10, 10, 30, 30, score: 0.2),                             // under the threshold: not counted in the outcomes
        };
        breakdown.Add(truth, predicted);
        var o = breakdown.Outcomes();
        Assert.Equal((1L, 1L, 1L, 1L), (o.Found, o.WrongClass, o.Loose, o.Missed));
        Assert.Equal((1L, 1L, 1L, 1L, 1L), (o.Hits, o.Duplicates, o.OtherClass, o.LooseBox, o.Background));
        Assert.Equal(1, o.MeanHitIoU, 12);
        Assert.True(breakdown.IsCut(truth[0].Box));
        Assert.False(breakdown.IsCut(truth[1].Box));
        Assert.Equal(0.25, DetectionBreakdown.Covered(truth, 2), 12);
        Assert.Equal(0, DetectionBreakdown.Covered(truth, 3));

        var subsets = breakdown.SubsetTable().Rows.ToDictionary(r => r[0].ToString(), r => (Count: long.Parse(r[1].ToString()), AP: double.Parse(r[2].ToString(), CultureInfo.InvariantCulture)));
        // Only the cut object counts in its subset, and the best detection finds it: AP 1 (the false alarms come after it,
        // the detection of the ignored large object is skipped).
        Assert.Equal((1L, 1.0), subsets["cut by the border"]);
        // All: class 0 by score hit, duplicate, loose, hit (the 0.2 detection) of 3: 1/3 · 1 + 1/3 · 1/2; class 1: 0.
        Assert.Equal(4, subsets["all"].Count);
        Assert.Equal((1.0 / 3 + 1.0 / 6) / 2, subsets["all"].AP, 12);
    }
}
