namespace Loom.Models.Tests.Vision;

/// <summary>Composed detection scenes: every box is exactly where its object's ink is, on real MNIST digits.</summary>
public sealed class SceneComposerTests
{
    private static readonly Lazy<SceneComposer> Composer = new(() =>
    {
        var digits = Digits.Load().Train;
        return new SceneComposer(digits.Inputs.Narrow(0, 0, 500), digits.Targets.Narrow(0, 0, 500).ToArray<long>(), 10, size: 64);
    });

    private static bool Ink(float[] canvas, int size, int x, int y) => canvas[y * size + x] > SceneComposer.InkThreshold;

    [Fact]
    public void A_lone_object_s_box_is_the_bounding_box_of_the_ink_drawn()
    {
        var c = new SceneComposer(Digits.Load().Train.Inputs.Narrow(0, 0, 50), Digits.Load().Train.Targets.Narrow(0, 0, 50).ToArray<long>(), 10, size: 48, objects: (1, 1));
        int cut = 0, dropped = 0;
        for (int i = 0; i < 200; i++)
        {
            var (pixels, objects) = c.Compose(seed: 3, i);
            if (objects.Count == 0)
            {
                // Too little of it would have shown: nothing is drawn, so there is nothing unannotated to find.
                Assert.Null(SceneComposer.InkBox(pixels, 48, 48));
                dropped++;
                continue;
            }
            var o = Assert.Single(objects);
            var (top, left, bottom, right) = SceneComposer.InkBox(pixels, 48, 48)!.Value;
            Assert.Equal(new Box(left, top, right, bottom), o.Box);
            if (o.Box.X1 == 0 || o.Box.Y1 == 0 || o.Box.X2 == 48 || o.Box.Y2 == 48) cut++;
        }
        Assert.InRange(cut, 10, 190); // some objects are cut by the border, most are not
        Assert.True(dropped < 40, $"{dropped} of 200 objects dropped");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void The_visible_share_decides_how_much_of_an_object_the_border_may_cut(double share)
    {
        var digits = Digits.Load().Train;
        // Lone objects 20 px tall, so a box's height shows how much of its ink (about 20 rows) stayed on the canvas.
        var c = new SceneComposer(digits.Inputs.Narrow(0, 0, 50), digits.Targets.Narrow(0, 0, 50).ToArray<long>(), 10, size: 48, objects: (1, 1), scale: (20, 20), visibleShare: share);
        var heights = new List<double>();
        int cut = 0;
        for (int i = 0; i < 300; i++)
            foreach (var o in c.Compose(seed: 9, i).Objects)
            {
                heights.Add(o.Box.Height);
                if (o.Box.Y1 == 0 || o.Box.Y2 == 48) cut++;
            }
        Assert.True(heights.Count > 200, $"only {heights.Count} of 300 objects drawn");
        if (share == 0) Assert.Contains(heights, h => h < 8);              // slivers of 4–7 rows
        else Assert.All(heights, h => Assert.True(h >= Math.Ceiling(share * 18), $"a box {h} px tall at share {share}"));
        if (share < 1) Assert.True(cut > 10, $"only {cut} objects cut by the top or bottom border");
        Assert.Throws<ArgumentException>(() => new SceneComposer(digits.Inputs.Narrow(0, 0, 2), [0, 1], 10, visibleShare: 1.5));
    }

    [Fact]
    public void In_crowded_scenes_boxes_cover_all_ink_and_each_box_has_ink_on_all_four_sides()
    {
        var c = Composer.Value;
        int overlapping = 0, objects = 0;
        for (int i = 0; i < 100; i++)
        {
            var (pixels, boxes) = c.Compose(seed: 11, i);
            objects += boxes.Count;
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++)
                    if (Ink(pixels, 64, x, y))
                        Assert.Contains(boxes, b => x >= b.Box.X1 && x < b.Box.X2 && y >= b.Box.Y1 && y < b.Box.Y2);
            foreach (var b in boxes)
            {
                Assert.InRange(b.Class, 0, 9);
                int x1 = (int)b.Box.X1, y1 = (int)b.Box.Y1, x2 = (int)b.Box.X2 - 1, y2 = (int)b.Box.Y2 - 1;
                // Pasting keeps the brighter pixel, so an object's own ink survives whatever is pasted over it.
                Assert.Contains(Enumerable.Range(x1, x2 - x1 + 1), x => Ink(pixels, 64, x, y1));
                Assert.Contains(Enumerable.Range(x1, x2 - x1 + 1), x => Ink(pixels, 64, x, y2));
                Assert.Contains(Enumerable.Range(y1, y2 - y1 + 1), y => Ink(pixels, 64, x1, y));
                Assert.Contains(Enumerable.Range(y1, y2 - y1 + 1), y => Ink(pixels, 64, x2, y));
            }
            for (int a = 0; a < boxes.Count; a++)
                for (int b = a + 1; b < boxes.Count; b++)
                    if (Box.IoU(boxes[a].Box, boxes[b].Box) > 0) overlapping++;
        }
        Assert.InRange(objects, 200, 500); // 2 to 5 per scene, a few dropped when too little would show
        Assert.True(overlapping > 10, $"only {overlapping} overlapping pairs in 100 scenes");
    }

    [Fact]
    public void A_scene_is_a_function_of_seed_and_index()
    {
        var c = Composer.Value;
        var (a, boxesA) = c.Compose(5, 17);
        var (b, boxesB) = c.Compose(5, 17);
        Assert.Equal(a, b);
        Assert.Equal(boxesA, boxesB);
        Assert.NotEqual(a, c.Compose(5, 18).Pixels);
        Assert.NotEqual(a, c.Compose(6, 17).Pixels);
        Assert.Throws<ArgumentException>(() => new SceneComposer(Tensor.Zeros(new Shape(2, 8, 8)), [0, 1], 2));
        Assert.Throws<ArgumentException>(() => new SceneComposer(Tensor.Ones(new Shape(2, 8, 8)), [0, 2], 2));
    }
}
