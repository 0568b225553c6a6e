using Loom.Nn;

namespace Loom.Models.Tests.Vision;

/// <summary>The centre-based detector: its loss against values worked by hand and finite differences, its shapes, its decoding.</summary>
public sealed class CenterNetTests
{
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void The_loss_is_the_focal_loss_plus_L1_of_size_and_offset_per_object()
    {
        // One class on a 2×2 map: an object centred on cell 0 (heatmap 1), a neighbour at 0.5, two background cells.
        double[] logits = [0.5, -1, 2, -3];
        double[] size = [20, 5, 0, 0], offset = [0.25, 0, 0, 0.5];
        double[] heat = [1, 0.5, 0, 0], sizeTarget = [18, 0, 0, 0], offsetTarget = [0.5, 0, 0, 0], mask = [1, 0, 0, 0];
        // Channels: logit, width, height, x offset, y offset; the target adds the mask. Height and y offset are zero.
        var output = Tensor.FromArray(
            [.. logits, size[0], size[1], size[2], size[3], 0, 0, 0, 0, offset[0], offset[1], offset[2], offset[3], 0, 0, 0, 0], 1, 5, 2, 2);
        var target = Tensor.FromArray(
            [.. heat, sizeTarget[0], 0, 0, 0, 30, 0, 0, 0, offsetTarget[0], 0, 0, 0, 0.75, 0, 0, 0, .. mask], 1, 6, 2, 2);

        double p0 = Sigmoid(0.5);
        double focal = -Math.Pow(1 - p0, 2) * Math.Log(p0);                   // the centre: (1 − p)² log p
        foreach (var (x, y) in new[] { (-1.0, 0.5), (2.0, 0.0), (-3.0, 0.0) }) // elsewhere: (1 − y)⁴ p² log(1 − p)
            focal += -Math.Pow(1 - y, 4) * Math.Pow(Sigmoid(x), 2) * Math.Log(1 - Sigmoid(x));
        // Size and offset count at the centre cell only: |20 − 18| + |0 − 30| and |0.25 − 0.5| + |0 − 0.75|.
        double expected = focal + 0.1 * (2 + 30) + (0.25 + 0.75);

        Assert.Equal(expected, CenterNet.Loss(output, target).Item(), 1e-12);
    }

    [Fact]
    public void The_loss_is_averaged_over_the_objects_of_the_batch()
    {
        var g = new Generator(5);
        var output = Tensor.Randn(new Shape(2, 6, 4, 4), g, DType.Float64);
        var target = Tensor.Zeros(new Shape(2, 7, 4, 4), DType.Float64);
        var one = CenterNet.Loss(output, target).Item(); // no objects: divided by one, not zero
        Assert.True(double.IsFinite(one) && one > 0);
        // A centre in each image whose size and offset the output gets exactly right: only the object count changes.
        var t = target.ToArray<double>();
        var o = output.ToArray<double>();
        for (int b = 0; b < 2; b++)
            for (int c = 2; c < 6; c++)
                for (int cell = 0; cell < 16; cell++) t[(b * 7 + c) * 16 + cell] = o[(b * 6 + c) * 16 + cell];
        t[6 * 16 + 5] = t[7 * 16 + 6 * 16 + 9] = 1;
        Assert.Equal(one / 2, CenterNet.Loss(output, Tensor.FromArray(t, 2, 7, 4, 4)).Item(), 1e-12);
    }

    [Fact]
    public void The_loss_gradient_matches_finite_differences()
    {
        var g = new Generator(11);
        var output = Tensor.Randn(new Shape(2, 6, 3, 3), g, DType.Float64).RequiresGrad_();
        var t = new double[2 * 7 * 9];
        var u = Tensor.Rand(new Shape(t.Length), g, DType.Float64).ToArray<double>();
        for (int i = 0; i < t.Length; i++) t[i] = u[i] * 0.9; // heatmaps below one, sizes and offsets anywhere
        t[4] = 1;                                              // image 0, class 0, centre cell 4
        t[7 * 9 + 9 + 2] = 1;                                  // image 1, class 1, centre cell 2
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 9; c++) t[(b * 7 + 6) * 9 + c] = 0;
        t[6 * 9 + 4] = t[(7 + 6) * 9 + 2] = 1;
        var target = Tensor.FromArray(t, 2, 7, 3, 3);
        Assert.Null(GradCheck.Run(x => CenterNet.Loss(x[0], target), [output]));
    }

    [Fact]
    public void The_network_maps_scenes_to_class_heatmaps_and_boxes_at_stride_four()
    {
        Generator.ManualSeed(3);
        var net = new CenterNet(classes: 10);
        var y = net.Forward(Tensor.Zeros(2, 1, 48, 48));
        Assert.Equal(new Shape(2, 14, 12, 12), y.Shape);
        // The heatmap starts at the prior score 0.1 everywhere, so the untrained loss is not dominated by false alarms.
        Assert.Equal(-Math.Log(9), y.Narrow(1, 0, 10).Mean().Item(), 1e-2);
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(1, 1, 30, 30)));
        Assert.Contains("multiples of 4", e.Message);
    }

    [Fact]
    public void The_wide_network_gives_the_same_layout_and_prior()
    {
        Generator.ManualSeed(3);
        var net = new WideCenterNet(classes: 10);
        var y = net.Forward(Tensor.Zeros(2, 1, 48, 48));
        Assert.Equal(new Shape(2, 14, 12, 12), y.Shape);
        Assert.Equal(-Math.Log(9), y.Narrow(1, 0, 10).Mean().Item(), 1e-2);
        Assert.Contains("multiples of 8", Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(1, 1, 36, 36))).Message);
        Assert.Contains("multiples of 4", Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Zeros(1, 1, 30, 30))).Message);
    }

    [Fact]
    public void The_wide_network_s_stride_eight_level_sees_context_the_small_network_cannot()
    {
        // Which input pixels reach one output cell's heatmap: the gradient of that logit with respect to the picture.
        // The small network's receptive field is about 75 px (37 either side); the wide one's stride-8 level reaches
        // further. Residual blocks start as identities (zero last batch-norm scale), so they are given scale one here.
        static bool Reaches(Module<Tensor, Tensor> net, int distance)
        {
            foreach (var module in net.Modules())
                if (module is BatchNorm2d bn) using (new NoGrad()) Init.Constant(bn.Weight!, 1);
            net.Eval();
            var x = Tensor.Rand(new Shape(1, 1, 96, 96), new Generator(1)).RequiresGrad_();
            // Cell (12, 12) is centred on pixel (50, 50).
            net.Forward(x).Narrow(1, 0, 1).Narrow(2, 12, 1).Narrow(3, 12, 1).Sum().Backward();
            var g = x.Grad!.ToArray<float>();
            return Math.Abs(g[50 * 96 + 50 + distance]) + Math.Abs(g[(50 + distance) * 96 + 50]) > 0;
        }
        Generator.ManualSeed(4);
        Assert.True(Reaches(new CenterNet(10), 30));
        Assert.False(Reaches(new CenterNet(10), 44));
        Assert.True(Reaches(new WideCenterNet(10), 44));
    }

    [Fact]
    public void Decoding_outputs_that_copy_the_targets_gives_back_the_boxes()
    {
        var targets = new CenterTargets(classes: 2, imageSize: 32, stride: 4);
        Detection[] objects = [new(new Box(2, 3, 14, 20), 0), new(new Box(16, 10, 31, 30), 1)];
        var (heat, size, offset, _) = targets.Encode(objects);
        // Logits of ±8 where the target is 1 or not: scores of 0.9997 at centres, peaks nowhere else.
        var output = new float[6 * 64];
        for (int i = 0; i < heat.Length; i++) output[i] = heat[i] == 1 ? 8 : -8;
        size.CopyTo(output, 2 * 64);
        offset.CopyTo(output, 4 * 64);
        var found = CenterNet.Decode(Tensor.FromArray(output, 1, 6, 8, 8), minScore: 0.5)[0];
        Assert.Equal(2, found.Count);
        foreach (var o in objects) Assert.Single(found, d => d.Class == o.Class && Box.IoU(d.Box, o.Box) > 0.999);
        // Clipped to a smaller picture, the second box loses what lies outside it.
        var clipped = CenterNet.Decode(Tensor.FromArray(output, 1, 6, 8, 8), minScore: 0.5, height: 25, width: 28)[0];
        Assert.Contains(clipped, d => d.Box == new Box(16, 10, 28, 25));
    }
}
