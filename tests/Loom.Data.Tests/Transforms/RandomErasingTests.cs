namespace Loom.Data.Tests.Transforms;

public class RandomErasingTests
{
    [Fact]
    public void Erases_one_rectangle_of_the_given_value_in_every_channel_and_keeps_the_rest()
    {
        var x = TestTensors.Uniform(3, 1, 2, DType.Float32, 3, 20, 24); // no pixel is -1
        var erase = new RandomErasing(probability: 1, value: -1, seed: 7);
        for (int trial = 0; trial < 20; trial++)
        {
            var y = erase.Apply(x).ToArray<float>();
            var xs = x.ToArray<float>();
            // The erased pixels of channel 0 form one filled rectangle; the other channels erase the same one.
            var erased = Enumerable.Range(0, 20 * 24).Where(k => y[k] == -1).ToArray();
            Assert.NotEmpty(erased);
            int top = erased.Min(k => k / 24), bottom = erased.Max(k => k / 24), left = erased.Min(k => k % 24), right = erased.Max(k => k % 24);
            int area = (bottom - top + 1) * (right - left + 1);
            Assert.Equal(area, erased.Length);
            // Area within scale (0.02, 0.33) of 480 pixels, allowing for rounding of each side.
            Assert.InRange(area, 0.02 * 480 * 0.5, 0.33 * 480 * 1.5);
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < 480; k++)
                {
                    bool inside = k / 24 >= top && k / 24 <= bottom && k % 24 >= left && k % 24 <= right;
                    Assert.Equal(inside ? -1f : xs[c * 480 + k], y[c * 480 + k]);
                }
        }
    }

    [Fact]
    public void Erases_about_the_given_share_of_images_and_is_reproducible_from_its_seed()
    {
        var batch = Tensor.Ones(new Shape(400, 1, 8, 8));
        var y = new RandomErasing(probability: 0.25, seed: 1).Apply(batch);
        int touched = Enumerable.Range(0, 400).Count(i => y.Select(0, i).Sum().Item() < 64);
        Assert.InRange(touched, 70, 130); // 100 expected; binomial sd 8.7
        TensorAssert.Close(y, new RandomErasing(probability: 0.25, seed: 1).Apply(batch), 0, 0);
        Assert.Equal(64 * 400, new RandomErasing(probability: 0, seed: 1).Apply(batch).Sum().Item());
    }

    [Fact]
    public void Rejects_settings_outside_their_ranges()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomErasing(probability: 1.5));
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RandomErasing(scale: (0.5, 0.2)), "RandomErasing: scale (0.5, 0.2) must satisfy 0 < min ≤ max ≤ 1");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RandomErasing(ratio: (0, 1)), "RandomErasing: ratio (0, 1) must satisfy 0 < min ≤ max");
    }
}
