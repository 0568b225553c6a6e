namespace Loom.Models.Tests.Vision;

/// <summary>A centre-based detector's targets: encoding boxes and decoding the targets give the boxes back.</summary>
public sealed class CenterTargetsTests
{
    [Fact]
    public void Decoding_the_targets_gives_back_every_box_with_score_one()
    {
        var t = new CenterTargets(classes: 3, imageSize: 64, stride: 4);
        Detection[] objects =
        [
            new(new Box(3, 5, 21, 30), 0), new(new Box(10, 12, 26, 35), 2), // overlapping, other class
            new(new Box(40, 40, 64, 58), 1),                                 // at the border
            new(new Box(44, 2, 50, 9.5), 0),                                 // small, fractional
        ];
        var (heat, size, offset, mask) = t.Encode(objects);
        Assert.Equal(4, mask.Sum());
        // The centre of the first box, (12, 17.5), is cell (3, 4) of the 16×16 map.
        Assert.Equal(1, heat[4 * 16 + 3]);
        Assert.Equal(18, size[4 * 16 + 3]);
        Assert.Equal(25, size[256 + 4 * 16 + 3]);
        Assert.Equal(0.375f, offset[256 + 4 * 16 + 3]); // 17.5 / 4 = 4.375

        var decoded = t.Decode(heat, size, offset, minScore: 0.99);
        Assert.Equal(4, decoded.Count);
        foreach (var o in objects)
        {
            var d = Assert.Single(decoded, d => d.Class == o.Class && Box.IoU(d.Box, o.Box) > 0.999);
            Assert.Equal(1, d.Score);
        }
    }

    [Fact]
    public void Heatmaps_fall_off_around_centres_and_only_peaks_are_decoded()
    {
        var t = new CenterTargets(classes: 1, imageSize: 32, stride: 4);
        var (heat, size, offset, _) = t.Encode([new(new Box(0, 0, 24, 24), 0)]); // centre cell (3, 3)
        Assert.Equal(1, heat[3 * 8 + 3]);
        Assert.InRange(heat[3 * 8 + 4], 0.3f, 0.99f);
        Assert.True(heat[3 * 8 + 5] < heat[3 * 8 + 4]);
        Assert.Single(t.Decode(heat, size, offset, minScore: 0.01)); // the neighbours are not peaks

        // A plateau of two equal cells gives one detection, not two.
        var flat = new float[64];
        flat[10] = flat[11] = 0.8f;
        Assert.Single(t.Decode(flat, new float[128], new float[128]));
        Assert.Empty(t.Decode(new float[64], new float[128], new float[128]));
        Assert.Throws<ArgumentException>(() => t.Decode(new float[63], new float[128], new float[128]));
        Assert.Throws<ArgumentException>(() => t.Encode([new(new Box(0, 0, 4, 4), 1)]));
    }

    [Fact]
    public void Two_objects_centred_on_one_cell_keep_the_larger_s_size()
    {
        var t = new CenterTargets(classes: 2, imageSize: 32, stride: 4);
        var (_, size, _, mask) = t.Encode([new(new Box(14, 14, 18, 18), 0), new(new Box(8, 8, 24, 24), 1), new(new Box(15, 15, 17, 17), 0)]);
        Assert.Equal(1, mask.Sum());
        Assert.Equal(16, size[4 * 8 + 4]);
    }
}
