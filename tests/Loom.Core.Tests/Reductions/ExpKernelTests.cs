namespace Loom.Tests.Reductions;

public class ExpKernelTests
{
    [Fact]
    public void Fused_exp_is_accurate_and_identical_on_every_vector_path()
    {
        foreach (int n in TestTensors.OddSizes.Append(1000))
        {
            var x = TestTensors.Uniform(n, -90, 90, DType.Float32, n).ToArray<float>();
            if (n > 3) (x[0], x[1], x[2]) = (float.NaN, float.NegativeInfinity, -0f);
            var y512 = new float[n];
            var y256 = new float[n];
            var scalar = new float[n];
            float s512 = ExpKernels.ExpShiftedSum(x, 1.5f, y512, VectorWidth.W512);
            float s256 = ExpKernels.ExpShiftedSum(x, 1.5f, y256, VectorWidth.W256);
            float s0 = ExpKernels.ExpShiftedSum(x, 1.5f, scalar, VectorWidth.Scalar);
            Assert.Equal(scalar, y512);
            Assert.Equal(scalar, y256);
            if (float.IsNaN(s0)) Assert.True(float.IsNaN(s512) && float.IsNaN(s256)); // a NaN input poisons the sum
            else
            {
                Assert.Equal(s0, s512, Math.Abs(s0) * 1e-5);
                Assert.Equal(s0, s256, Math.Abs(s0) * 1e-5);
            }
            Assert.Equal(s0, ExpKernels.ExpShiftedSum(x, 1.5f, default, VectorWidth.Scalar)); // sum only, no store
            for (int i = 0; i < n; i++)
            {
                double exact = Math.Exp(x[i] - 1.5f);
                if (double.IsNaN(exact)) Assert.True(float.IsNaN(scalar[i]));
                else if (exact < 1.2e-38) Assert.Equal(exact, scalar[i], 1.5e-45); // subnormal: within one spacing
                else if (exact > float.MaxValue) Assert.Equal(float.PositiveInfinity, scalar[i]);
                else Assert.Equal(exact, scalar[i], exact * 3e-7);
            }
        }
    }

    [Fact]
    public void Exp_underflows_through_the_subnormals_and_overflows_where_the_float_range_ends()
    {
        float[] x = [-200, -104.5f, -103.3f, -100, -95, -90, -87.5f, -87.33f, 88.3f, 88.5f, 88.7f, 88.72f, 88.73f, 89, 200,
            float.NegativeInfinity, float.PositiveInfinity, float.NaN];
        foreach (var width in new[] { VectorWidth.W512, VectorWidth.W256, VectorWidth.Scalar })
        {
            // Eighteen elements: each vector width runs its vector loop and then its scalar tail.
            var y = new float[x.Length];
            ExpKernels.ExpShiftedSum(x, 0, y, width);
            for (int i = 0; i < x.Length; i++)
            {
                double exact = Math.Exp(x[i]);
                if (double.IsNaN(exact)) Assert.True(float.IsNaN(y[i]), $"exp({x[i]}) on {width}");
                else if (exact > float.MaxValue) Assert.Equal(float.PositiveInfinity, y[i]);
                else if (exact < 1.2e-38) Assert.Equal(exact, y[i], 1.5e-45);
                else Assert.Equal(exact, y[i], exact * 3e-7);
            }
        }
    }

    [Fact]
    public void Table_exp_of_minus_half_a_square_is_within_one_ulp_and_identical_on_every_width()
    {
        // GELU's exp(−z²/2) on [0, 14.5], every 1/1024 (a length that leaves a tail), NaN and a tiny z.
        var z = Enumerable.Range(0, 14 * 1024 + 512 + 1).Select(i => i / 1024f).Append(float.NaN).Append(1e-20f).ToArray();
        var first = SameBitsAtEveryWidth<HalfSquareExp>(z);
        for (int i = 0; i < z.Length; i++)
        {
            double exact = Math.Exp(-0.5 * ((double)z[i] * z[i])); // z² is exact in double
            if (double.IsNaN(exact)) Assert.True(float.IsNaN(first[i]));
            else if (exact < 1.1754943508222875e-38) Assert.True(Math.Abs(first[i] - exact) <= 1.401298464324817e-45, $"exp(−{z[i]}²/2) = {first[i]:R}, exact {exact:R}");
            else
            {
                double ulp = Math.ScaleB(1.0, Math.ILogB(exact) - 23);
                Assert.True(Math.Abs(first[i] - exact) <= 1.1 * ulp, $"exp(−{z[i]}²/2) = {first[i]:R}, exact {exact:R}");
            }
        }
        Assert.Equal(0f, first[14 * 1024 + 512]); // z = 14.5, GELU's tail end: below half the smallest subnormal
        Assert.Equal(1f, first[0]);
    }

    [Fact]
    public void Table_exp_is_within_one_ulp_underflows_gradually_and_is_identical_on_every_width()
    {
        // The activations' exp (tanh GELU, SiLU) over its whole range, every 1/512, with both ends and NaN.
        var x = Enumerable.Range(0, 193 * 512).Select(i => -104f + i / 512f)
            .Concat([float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 88.72f, 88.73f, -87.4f, -103.9f]).ToArray();
        var first = SameBitsAtEveryWidth<TableExp>(x);
        for (int i = 0; i < x.Length; i++)
        {
            double exact = Math.Exp(x[i]);
            if (double.IsNaN(exact)) Assert.True(float.IsNaN(first[i]));
            else if (exact > float.MaxValue) Assert.Equal(float.PositiveInfinity, first[i]);
            else if (exact < 1.1754943508222875e-38) Assert.True(Math.Abs(first[i] - exact) <= 1.401298464324817e-45, $"exp({x[i]}) = {first[i]:R}, exact {exact:R}");
            else Assert.True(Math.Abs(first[i] - exact) <= Math.ScaleB(1.0, Math.ILogB(exact) - 23), $"exp({x[i]}) = {first[i]:R}, exact {exact:R}");
        }
    }

    /// <summary>f(x) on the scalar path, asserting that both vector widths (each with its narrower tail) give the same bits.</summary>
    private static float[] SameBitsAtEveryWidth<TMap>(float[] x) where TMap : ISimdMap<float>
    {
        var scalar = new float[x.Length];
        Simd.For<float, MapStep<float, TMap>>(new(x, scalar), x.Length, VectorWidth.Scalar);
        foreach (var width in new[] { VectorWidth.W512, VectorWidth.W256 })
        {
            var y = new float[x.Length];
            Simd.For<float, MapStep<float, TMap>>(new(x, y), x.Length, width);
            Assert.Equal(scalar, y);
        }
        return scalar;
    }

    private readonly struct TableExp : ISimdMap<float>
    {
        public static TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float> => ExpKernels.ExpByTable<TV, TS>(x);
    }

    private readonly struct HalfSquareExp : ISimdMap<float>
    {
        public static TV Apply<TV, TS>(TV z) where TV : struct where TS : ISimd<TV, float> => ExpKernels.ExpMinusHalfSquare<TV, TS>(z);
    }

    [Fact]
    public void Element_wise_exp_gives_the_fused_pass_values_on_every_width()
    {
        foreach (int n in TestTensors.OddSizes)
        {
            var x = TestTensors.Uniform(n, -100, 90, DType.Float32, n).ToArray<float>();
            var fused = new float[n];
            ExpKernels.ExpShiftedSum(x, 0, fused, VectorWidth.Scalar);
            foreach (var width in new[] { VectorWidth.W512, VectorWidth.W256, VectorWidth.Scalar })
            {
                var y = new float[n];
                ExpKernels.Exp(x, y, width);
                Assert.Equal(fused, y);
            }
            Assert.Equal(fused, Tensor.FromArray(x).Exp().ToArray<float>());
        }
    }
}
