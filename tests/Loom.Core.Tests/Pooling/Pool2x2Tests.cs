namespace Loom.Tests.Pooling;

/// <summary>
/// The 2×2, stride-2 fast paths of max_pool2d and avg_pool2d (vectorised rows with masked tails, byte argmax codes)
/// against the reference, on planes narrower and wider than a vector and with odd sizes.
/// </summary>
public class Pool2x2Tests
{
    public static TheoryData<int, int> Planes => new()
    {
        { 2, 2 }, { 7, 17 }, { 28, 28 }, { 10, 10 }, { 3, 33 }, { 5, 64 }, { 4, 65 }, { 3, 2 }, { 6, 3 },
    };

    [Theory]
    [MemberData(nameof(Planes))]
    public void Max_pool_matches_the_reference_and_routes_the_gradient_to_the_first_maximum(int h, int w)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            // Rounded values make ties common, so the first-maximum rule is exercised.
            var values = TestTensors.Randn(1, DType.Float64, 2, 3, h, w).ToArray<double>().Select(v => Math.Round(2 * v)).ToArray();
            var x = Tensor.FromArray(values, 2, 3, h, w).To(dtype).RequiresGrad_();
            var y = Functional.MaxPool2d(x, 2);
            TensorAssert.Close(PoolOracle.MaxPool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), false), y, 0, 0);
            var dy = TestTensors.Randn(2, dtype, y.Shape.ToArray());
            y.Backward(dy);
            TensorAssert.Close(MaxPoolGradient(x, dy), x.Grad!, 0, 0);
            TensorAssert.Close(y, Functional.MaxPool2d(TestTensors.NonContiguous(x.Detach()), 2), 0, 0);
        }
    }

    [Fact]
    public void NaN_wins_its_window_in_every_lane()
    {
        // A plane 64 wide puts windows in both halves of the vector and in the masked tail of a 34-wide one.
        foreach (int w in new[] { 64, 34 })
        {
            var data = TestTensors.Randn(1, DType.Float32, 1, 1, 2, w).ToArray<float>();
            for (int i = 0; i < data.Length; i += 7) data[i] = float.NaN;
            var x = Tensor.FromArray(data, 1, 1, 2, w);
            TensorAssert.Close(PoolOracle.MaxPool2d(x, (2, 2), (2, 2), (0, 0), (1, 1), false).ToArray<double>().Select(v => (float)v).ToArray(),
                Functional.MaxPool2d(x, 2).ToArray<float>(), 0, 0);
        }
    }

    [Theory]
    [MemberData(nameof(Planes))]
    public void Avg_pool_matches_the_reference_and_spreads_a_quarter_of_the_gradient(int h, int w)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = TestTensors.Randn(1, dtype, 2, 3, h, w).RequiresGrad_();
            var y = Functional.AvgPool2d(x, 2);
            TensorAssert.Close(PoolOracle.AvgPool2d(x, (2, 2), (2, 2), (0, 0), true, false), y, 1e-6, 1e-6);
            var dy = TestTensors.Randn(2, dtype, y.Shape.ToArray());
            y.Backward(dy);
            var expected = new double[x.Numel];
            var g = dy.ToArray<double>();
            for (int p = 0; p < 6; p++)
                for (int i = 0; i < h / 2 * 2; i++)
                    for (int j = 0; j < w / 2 * 2; j++)
                        expected[(p * h + i) * w + j] = g[(p * (h / 2) + i / 2) * (w / 2) + j / 2] / 4;
            TensorAssert.Close(expected, x.Grad!.ToArray<double>(), 1e-7, 1e-7);
        }
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var x = TestTensors.Param(1, 2, 3, 5, 7);
        TensorAssert.GradientsMatch(t => Functional.MaxPool2d(t[0], 2), x);
        TensorAssert.GradientsMatch(t => Functional.AvgPool2d(t[0], 2), x);
        TensorAssert.GradientsMatch(t => Functional.MaxPool2d(t[0].Transpose(2, 3), 2), x);
    }

    /// <summary>dx = dy placed at the first maximum (row-major, NaN winning) of each 2×2 window, zeros elsewhere.</summary>
    private static Tensor MaxPoolGradient(Tensor x, Tensor dy)
    {
        int planes = x.Shape[0] * x.Shape[1], h = x.Shape[2], w = x.Shape[3], oh = h / 2, ow = w / 2;
        var xs = x.ToArray<double>();
        var g = dy.ToArray<double>();
        var dx = new double[xs.Length];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int best = -1;
                    for (int di = 0; di < 2; di++)
                        for (int dj = 0; dj < 2; dj++)
                        {
                            int at = (p * h + 2 * i + di) * w + 2 * j + dj;
                            if (best < 0 || xs[at] > xs[best] || double.IsNaN(xs[at])) best = at;
                        }
                    dx[best] += g[(p * oh + i) * ow + j];
                }
        return Tensor.FromArray(dx, x.Shape.ToArray()).To(x.DType);
    }
}
