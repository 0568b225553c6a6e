namespace Loom.Models.Tests.Vision;

/// <summary>`--width` on the zoo's resnet-mini: the same layout with every stage's channels scaled.</summary>
public class ResNetWidthTests
{
    /// <summary>Parameters of resnet-mini's layout (two basic blocks a stage, 3×3 stem) on grey images, counted by hand.</summary>
    private static long Parameters(int[] widths, int classes = 10)
    {
        long total = 9L * widths[0] + 2 * widths[0]; // stem convolution (no bias) and its batch norm
        int previous = widths[0];
        foreach (int w in widths)
        {
            for (int b = 0; b < 2; b++)
            {
                int input = b == 0 ? previous : w;
                total += 9L * input * w + 9L * w * w + 2 * (2 * w); // two 3×3 convolutions, two batch norms
                if (input != w) total += (long)input * w + 2 * w; // 1×1 shortcut and its batch norm
            }
            previous = w;
        }
        return total + (long)previous * classes + classes;
    }

    [Fact]
    public void The_default_width_is_the_network_of_before()
    {
        var model = (ResNet)ModelZoo.Create("resnet-mini", [1, 28, 28], 10);
        Assert.Equal([16, 32, 64], model.Config.Widths);
        Assert.Equal(174_970, model.ParameterCount());
        Assert.Equal(Parameters([16, 32, 64]), model.ParameterCount());
    }

    [Fact]
    public void Width_scales_every_stage_and_0_49_is_the_widest_under_a_quarter()
    {
        // 16·0.49 = 7.84 → 8, 32·0.49 = 15.68 → 16, 64·0.49 = 31.36 → 31.
        var narrow = (ResNet)ModelZoo.Create("resnet-mini", [1, 28, 28], 10, width: 0.49);
        Assert.Equal([8, 16, 31], narrow.Config.Widths);
        Assert.Equal(new Shape(8, 1, 3, 3), narrow.Conv1.Weight.Shape);
        Assert.Equal(new Shape(10, 31), narrow.Fc.Weight.Shape);
        Assert.Equal(Parameters([8, 16, 31]), narrow.ParameterCount());
        Assert.Equal(42_345, narrow.ParameterCount());
        Assert.True(narrow.ParameterCount() * 4 <= 174_970);
        // Half width (8, 16, 32) is just over a quarter: 44,226 parameters, 25.3 %.
        var half = ModelZoo.Create("resnet-mini", [1, 28, 28], 10, width: 0.5);
        Assert.Equal(Parameters([8, 16, 32]), half.ParameterCount());
        Assert.True(half.ParameterCount() * 4 > 174_970);
        using (new NoGrad()) Assert.Equal(new Shape(2, 10), narrow.Forward(Tensor.Zeros(2, 1, 28, 28)).Shape);
    }

    [Fact]
    public void A_tiny_width_keeps_one_channel_and_a_bad_one_is_refused()
    {
        Assert.Equal([1, 1, 1], ResNetConfig.Mini.Scaled(0.01).Widths);
        Assert.Equal([2, 2], ResNetConfig.Mini.Scaled(2).Blocks[..2]);
        Assert.Equal([32, 64, 128], ResNetConfig.Mini.Scaled(2).Widths);
        foreach (double bad in new[] { 0, -0.5, double.NaN, double.PositiveInfinity })
            TensorAssert.Throws<ArgumentOutOfRangeException>(() => ResNetConfig.Mini.Scaled(bad), "width factor must be positive");
        TensorAssert.Throws<ArgumentException>(() => ModelZoo.Create("resnet18", [3, 32, 32], 10, width: 0.5), "--width", "resnet18");
    }
}
