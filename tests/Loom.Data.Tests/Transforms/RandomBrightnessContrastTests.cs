namespace Loom.Data.Tests.Transforms;

public sealed class RandomBrightnessContrastTests
{
    [Fact]
    public void Each_image_gets_one_increasing_affine_map_about_its_mean_within_the_ranges_clamped_to_0_1()
    {
        var x = new float[2 * 5 * 5];
        for (int i = 0; i < x.Length; i++) x[i] = 0.3f + 0.4f * (i % 25) / 24f; // 0.3..0.7: room on both sides
        var transform = new RandomBrightnessContrast(brightness: 0.2, contrast: 1.5, seed: 11);
        for (int draw = 0; draw < 20; draw++)
        {
            var y = transform.Apply(Tensor.FromArray(x, 2, 5, 5)).ToArray<float>();
            Assert.All(y, v => Assert.InRange(v, 0f, 1f));
            // Unclamped pixels: y = m + c(x − m) + b, so c is the slope between any two and b what is left at the mean.
            double c = (y[24] - y[0]) / (x[24] - x[0]);
            Assert.InRange(c, 1 / 1.5 - 1e-4, 1.5 + 1e-4);
            double mean = x.Average(v => (double)v), b = y[0] - (mean + c * (x[0] - mean));
            Assert.InRange(b, -0.2 - 1e-4, 0.2 + 1e-4);
            for (int i = 0; i < x.Length; i++)
                Assert.Equal(Math.Clamp(mean + c * (x[i] - mean) + b, 0, 1), y[i], 4);
        }
        var same = new RandomBrightnessContrast(brightness: 0, contrast: 1).Apply(Tensor.FromArray(x, 2, 5, 5)).ToArray<float>();
        Assert.Equal(x, same);
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RandomBrightnessContrast(contrast: 0.5), "contrast");
    }
}
