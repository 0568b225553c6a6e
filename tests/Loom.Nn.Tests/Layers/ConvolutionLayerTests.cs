namespace Loom.Nn.Tests.Layers;

/// <summary>The channel checks the convolution layers share through <see cref="ConvNd{TSize}"/>.</summary>
public class ConvolutionLayerTests
{
    // The weight's shape divides by groups, so ConvNd builds it only after the check: zero groups must give the
    // layer's one-line message, not a DivideByZeroException.
    [Fact]
    public void Zero_groups_is_the_layers_own_error_not_a_division_by_zero()
    {
        Assert.Equal("Conv1d: in (4) and out (6) channels must be positive multiples of groups (0)",
            Assert.Throws<ArgumentException>(() => new Conv1d(4, 6, 3, groups: 0)).Message);
        Assert.Equal("Conv2d: in (4) and out (6) channels must be positive multiples of groups (0)",
            Assert.Throws<ArgumentException>(() => new Conv2d(4, 6, 3, groups: 0)).Message);
        Assert.Equal("ConvTranspose2d: in (4) and out (6) channels must be positive multiples of groups (0)",
            Assert.Throws<ArgumentException>(() => new ConvTranspose2d(4, 6, 3, groups: 0)).Message);
    }

    [Fact]
    public void Channels_that_groups_does_not_divide_are_refused()
    {
        Assert.Equal("Conv2d: in (4) and out (6) channels must be positive multiples of groups (4)",
            Assert.Throws<ArgumentException>(() => new Conv2d(4, 6, 3, groups: 4)).Message);
    }
}
