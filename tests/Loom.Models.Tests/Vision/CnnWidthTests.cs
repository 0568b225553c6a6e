using Loom.Nn;

namespace Loom.Models.Tests.Vision;

/// <summary>`--width` on the zoo's cnn: the same architecture with every channel and hidden count scaled.</summary>
public class CnnWidthTests
{
    private static long Parameters(int c1, int c2, int hidden) =>
        (9 * c1 + c1) + 2 * c1 + (9 * c1 * c2 + c2) + 2 * c2 + (c2 * 49 * hidden + hidden) + (hidden * 10 + 10);

    [Fact]
    public void Width_scales_every_layer_and_the_parameters_about_as_its_square()
    {
        var full = ModelZoo.Create("cnn", [1, 28, 28], 10);
        var narrow = (Sequential)ModelZoo.Create("cnn", [1, 28, 28], 10, width: 0.45);
        Assert.Equal(Parameters(32, 64, 128), full.ParameterCount());
        // 32·0.45 = 14.4 → 14, 64·0.45 = 28.8 → 29, 128·0.45 = 57.6 → 58.
        Assert.Equal(new Shape(14, 1, 3, 3), ((Conv2d)narrow[0]).Weight.Shape);
        Assert.Equal(new Shape(29, 14, 3, 3), ((Conv2d)narrow[4]).Weight.Shape);
        Assert.Equal(new Shape(58, 29 * 49), ((Linear)narrow[9]).Weight.Shape);
        Assert.Equal(Parameters(14, 29, 58), narrow.ParameterCount());
        Assert.True(narrow.ParameterCount() <= full.ParameterCount() / 4);
        Assert.Equal(new Shape(2, 10), narrow.Forward(Tensor.Zeros(2, 1, 28, 28)).Shape);
    }

    [Fact]
    public void Models_with_their_own_sizes_refuse_a_width()
    {
        TensorAssert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", [1, 28, 28], 10, width: 0.5), "--width", "lenet5");
    }
}
