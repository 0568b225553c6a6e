namespace Loom.Nn.Tests.Modules;

public class InitTests
{
    private static (double Mean, double Std, double Min, double Max) Stats(Tensor t)
    {
        var v = t.ToArray<double>();
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Average()), v.Min(), v.Max());
    }

    [Fact]
    public void Xavier_uniform_has_the_glorot_bound()
    {
        var w = Init.XavierUniform(Tensor.Zeros(200, 300), generator: new Generator(1));
        double a = Math.Sqrt(6.0 / 500);
        var (mean, std, min, max) = Stats(w);
        Assert.InRange(min, -a, -0.99 * a);
        Assert.InRange(max, 0.99 * a, a);
        Assert.InRange(std, 0.98 * a / Math.Sqrt(3), 1.02 * a / Math.Sqrt(3));
        Assert.InRange(mean, -0.01 * a, 0.01 * a);
    }

    [Fact]
    public void Convolutions_start_uniform_within_one_over_root_fan_in_of_weight_dimension_one()
    {
        // fan_in = weight dimension 1 × kernel: in/groups·k for a convolution, out/groups·k for a transposed one.
        static void Check(Parameter weight, Parameter? bias, double bound)
        {
            var w = weight.ToArray<double>();
            Assert.All(w, v => Assert.InRange(v, -bound, bound));
            Assert.True(w.Max() > 0.95 * bound && w.Min() < -0.95 * bound, "weights should fill the interval");
            Assert.All(bias!.ToArray<double>(), v => Assert.InRange(v, -bound, bound));
        }
        var c1 = new Conv1d(4, 64, 3, groups: 2, generator: new Generator(4));
        Check(c1.Weight, c1.Bias, 1 / Math.Sqrt(2 * 3));
        var c2 = new Conv2d(6, 66, (2, 3), groups: 3, generator: new Generator(5));
        Check(c2.Weight, c2.Bias, 1 / Math.Sqrt(2 * 2 * 3));
        var ct = new ConvTranspose2d(64, 6, (3, 2), groups: 2, generator: new Generator(6));
        Check(ct.Weight, ct.Bias, 1 / Math.Sqrt(3 * 3 * 2));
        Assert.Null(new Conv2d(2, 2, 1, bias: false).Bias);
    }

    [Fact]
    public void Kaiming_normal_uses_fan_in_and_relu_gain()
    {
        var w = Init.KaimingNormal(Tensor.Zeros(256, 64, 3, 3), nonlinearity: Nonlinearity.Relu, generator: new Generator(2));
        double expected = Math.Sqrt(2.0) / Math.Sqrt(64 * 9);
        Assert.InRange(Stats(w).Std, 0.98 * expected, 1.02 * expected);
        var fanOut = Init.KaimingNormal(Tensor.Zeros(256, 64, 3, 3), mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, generator: new Generator(2));
        Assert.InRange(Stats(fanOut).Std, 0.98 * Math.Sqrt(2.0 / (256 * 9)), 1.02 * Math.Sqrt(2.0 / (256 * 9)));
    }

    [Fact]
    public void Orthogonal_rows_are_orthonormal_for_wide_and_tall_matrices()
    {
        foreach (var (r, c) in new[] { (5, 8), (8, 5) })
        {
            var w = Init.Orthogonal(Tensor.Zeros(r, c), generator: new Generator(3)).ToArray<double>();
            int n = Math.Min(r, c);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double dot = 0;
                    if (r <= c) for (int k = 0; k < c; k++) dot += w[i * c + k] * w[j * c + k];
                    else for (int k = 0; k < r; k++) dot += w[k * c + i] * w[k * c + j];
                    Assert.Equal(i == j ? 1 : 0, dot, 5);
                }
        }
    }

    [Fact]
    public void Truncated_normal_stays_within_bounds_and_gains_are_pytorchs()
    {
        var w = Init.TruncatedNormal(Tensor.Zeros(10000), std: 1, a: -0.5, b: 0.5, generator: new Generator(4));
        var (_, _, min, max) = Stats(w);
        Assert.True(min >= -0.5 && max <= 0.5);
        Assert.Equal(5.0 / 3, Init.CalculateGain(Nonlinearity.Tanh), 12);
        Assert.Equal(Math.Sqrt(2.0 / (1 + 0.2 * 0.2)), Init.CalculateGain(Nonlinearity.LeakyRelu, 0.2), 12);
        Assert.Throws<ArgumentException>(() => Init.XavierUniform(Tensor.Zeros(5)));
    }

    [Fact]
    public void Same_seed_gives_the_same_weights()
    {
        var a = Init.KaimingUniform(Tensor.Zeros(4, 4), generator: new Generator(9)).ToArray<float>();
        var b = Init.KaimingUniform(Tensor.Zeros(4, 4), generator: new Generator(9)).ToArray<float>();
        Assert.Equal(a, b);
    }
}
