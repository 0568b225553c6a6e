namespace Loom.Tests.Kernels;

/// <summary>
/// Loom's own tanh (issue 8 item 1): TensorPrimitives.Tanh lost every digit near zero. These tests are denser than the
/// OpInfo precision sweep. The reference is the C library's double tanh, accurate to within 1 ulp of a double.
/// </summary>
public class TanhKernelTests
{
    [Fact]
    public void Float32_is_within_one_ulp_of_the_rounded_double_on_a_dense_grid_of_bit_patterns()
    {
        // Every 2048th positive float, denormals included, and their negatives: about 2 million points.
        var x = new List<float>();
        for (uint bits = 1; bits < 0x7F80_0000u; bits += 2048) x.Add(BitConverter.UInt32BitsToSingle(bits));
        var pos = x.ToArray();
        var neg = pos.Select(v => -v).ToArray();
        var y = new float[pos.Length];
        var yn = new float[pos.Length];
        TanhKernels.Tanh(pos, y);
        TanhKernels.Tanh(neg, yn);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < pos.Length; i++)
        {
            double exact = Math.Tanh((double)pos[i]);
            double ulp = exact < 1.1754943508222875e-38 ? 1.401298464324817e-45 : Math.ScaleB(1.0, Math.ILogB(exact) - 23);
            double err = Math.Abs(y[i] - exact) / ulp;
            if (err > worst) (worst, worstAt) = (err, pos[i]);
            Assert.Equal(-y[i], yn[i]); // odd, to the bit
        }
        Assert.True(worst <= 1, $"float32 tanh: {worst:G3} ulp at x = {worstAt:R}");
    }

    [Fact]
    public void Float64_is_within_two_ulp_of_the_c_library_on_a_log_spaced_sweep()
    {
        // Two functions each within 1 ulp of the truth are within 2 ulp of each other.
        const int n = 400_000;
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = Math.Pow(10, -323.5 + 326 * i / (double)(n - 1)) * (i % 2 == 0 ? 1 : -1);
        var y = new double[n];
        TanhKernels.Tanh(x, y);
        for (int i = 0; i < n; i++)
        {
            double exact = Math.Tanh(x[i]);
            double a = Math.Abs(exact);
            double ulp = a < 2.2250738585072014e-308 ? double.Epsilon : Math.ScaleB(1.0, Math.ILogB(a) - 52);
            Assert.True(Math.Abs(y[i] - exact) <= 2 * ulp, $"float64 tanh({x[i]:R}) = {y[i]:R}, C library: {exact:R}");
        }
    }

    [Fact]
    public void Tiny_inputs_come_back_unchanged_and_special_values_follow_ieee()
    {
        double[] tiny = [1e-300, -1e-300, 5e-324, -5e-324, 1e-20, 0.0, -0.0];
        var y = new double[tiny.Length];
        TanhKernels.Tanh(tiny, y);
        for (int i = 0; i < tiny.Length; i++) Assert.Equal(BitConverter.DoubleToInt64Bits(tiny[i]), BitConverter.DoubleToInt64Bits(y[i]));

        float[] tiny32 = [1e-6f, -1e-6f, 1e-30f, -1e-30f, 1e-40f, float.Epsilon, 0f, -0f, 1e-4f];
        var y32 = new float[tiny32.Length];
        TanhKernels.Tanh(tiny32, y32);
        for (int i = 0; i < tiny32.Length; i++) Assert.Equal((float)Math.Tanh(tiny32[i]), y32[i]);
        Assert.True(float.IsNegative(y32[7]));

        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e30f, -1e30f, 9.1f];
        var s = new float[special.Length];
        TanhKernels.Tanh(special, s);
        Assert.Equal([float.NaN, 1f, -1f, 1f, -1f, 1f], s);
        double[] special64 = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e300, -1e300, 19.5, 20.5];
        var s64 = new double[special64.Length];
        TanhKernels.Tanh(special64, s64);
        Assert.Equal([double.NaN, 1, -1, 1, -1, Math.Tanh(19.5), 1], s64);
    }

    [Fact]
    public void An_element_gets_the_same_bits_in_the_vector_body_and_in_the_tail()
    {
        var rng = new System.Random(3);
        var values = Enumerable.Range(0, 40).Select(_ => (rng.NextDouble() - 0.5) * 6).ToArray();
        var full = new double[40];
        TanhKernels.Tanh(values, full);
        var full32 = new float[40];
        TanhKernels.Tanh(values.Select(v => (float)v).ToArray(), full32);
        for (int n = 1; n <= 40; n++)
        {
            // The last element of a span of length n sits in the tail unless n is a multiple of the vector width.
            var part = new double[n];
            TanhKernels.Tanh(values.AsSpan(0, n), part);
            Assert.Equal(full.AsSpan(0, n).ToArray(), part);
            var part32 = new float[n];
            TanhKernels.Tanh(values.Take(n).Select(v => (float)v).ToArray(), part32);
            Assert.Equal(full32.AsSpan(0, n).ToArray(), part32);
            Assert.Equal(full32[n - 1], TanhKernels.Tanh((float)values[n - 1]));
        }
    }

    [Fact]
    public void Every_register_width_gives_the_same_bits()
    {
        // 27 floats and 15 doubles leave a tail at every width; the sweep runs through both sides of each split, the
        // exp range, saturation and the special values.
        float[] special32 = [0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1.17549435e-38f, 1e-30f, -1e-6f, 1e-4f,
            0.999999f, 1f, -1.000001f, 9.1f, 87.4f, -90f, 1e30f, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        var rng = new System.Random(7);
        var x32 = special32.Concat(Enumerable.Range(0, 2000).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 3))))).ToArray();
        double[] special64 = [0.0, -0.0, double.Epsilon, -double.Epsilon, 1e-310, 2.2250738585072014e-308, -1e-300, 1e-20, 0.6249999999, 0.625,
            -0.6250000001, 19.999999, 20, -20.000001, 700, 1e300, double.MaxValue, double.PositiveInfinity, double.NegativeInfinity, double.NaN];
        var x64 = special64.Concat(Enumerable.Range(0, 2000).Select(_ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 3)))).ToArray();
        foreach (int n in new[] { 27, x32.Length })
        {
            var reference = new float[n];
            TanhKernels.Tanh(x32.AsSpan(0, n), reference, VectorWidth.Scalar);
            foreach (var width in new[] { VectorWidth.W512, VectorWidth.W256, VectorWidth.Auto })
            {
                var y = new float[n];
                TanhKernels.Tanh(x32.AsSpan(0, n), y, width);
                for (int i = 0; i < n; i++)
                {
                    // NaN's payload is not promised; every other value must match to the bit.
                    if (float.IsNaN(x32[i])) Assert.True(float.IsNaN(y[i]), $"{width}: tanh(NaN) = {y[i]}");
                    else Assert.True(BitConverter.SingleToUInt32Bits(reference[i]) == BitConverter.SingleToUInt32Bits(y[i]),
                        $"{width}: tanh({x32[i]:R}) = {y[i]:R}, scalar width: {reference[i]:R}");
                }
            }
        }
        foreach (int n in new[] { 15, x64.Length })
        {
            var reference = new double[n];
            TanhKernels.Tanh(x64.AsSpan(0, n), reference, VectorWidth.Scalar);
            foreach (var width in new[] { VectorWidth.W512, VectorWidth.W256, VectorWidth.Auto })
            {
                var y = new double[n];
                TanhKernels.Tanh(x64.AsSpan(0, n), y, width);
                for (int i = 0; i < n; i++)
                {
                    if (double.IsNaN(x64[i])) Assert.True(double.IsNaN(y[i]), $"{width}: tanh(NaN) = {y[i]}");
                    else Assert.True(BitConverter.DoubleToInt64Bits(reference[i]) == BitConverter.DoubleToInt64Bits(y[i]),
                        $"{width}: tanh({x64[i]:R}) = {y[i]:R}, scalar width: {reference[i]:R}");
                }
            }
        }
        // The scalar width is also what the one-value overloads run, and it keeps the sign of zero.
        Assert.True(float.IsNegative(TanhKernels.Tanh(-0f)) && double.IsNegative(TanhKernels.Tanh(-0.0)));
        Assert.Equal(1.0, TanhKernels.Tanh(double.PositiveInfinity));
    }

    [Fact]
    public void Recurrent_cells_use_the_accurate_tanh()
    {
        // One RNN step h = tanh(x·Wᵀ + h0·Uᵀ) with a tiny pre-activation: TensorPrimitives gave 9.5e-7 for tanh(1e-6).
        var x = Tensor.Full(new Shape(1, 1, 16), 1e-6f); // [T, B, input]
        var (output, _, _) = Functional.RecurrentLayer(RecurrentCell.RnnTanh, x, Tensor.Eye(16), Tensor.Zeros(new Shape(16, 16)));
        Assert.All(output.ToArray<float>(), v => Assert.Equal((float)Math.Tanh(1e-6f), v));
        // The LSTM's cell input goes through tanh too: with zero weights for i, f, o the gates are 0.5 and c = 0.5·tanh(g).
        var w = Tensor.Cat([Tensor.Zeros(new Shape(32, 16)), Tensor.Eye(16), Tensor.Zeros(new Shape(16, 16))]);
        var (lstm, _, c) = Functional.RecurrentLayer(RecurrentCell.Lstm, x, w, Tensor.Zeros(new Shape(64, 16)));
        Assert.All(c!.ToArray<float>(), v => Assert.Equal(0.5f * (float)Math.Tanh(1e-6f), v));
    }
}
