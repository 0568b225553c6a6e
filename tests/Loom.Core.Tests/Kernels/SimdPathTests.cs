using System.Numerics;
using System.Runtime.InteropServices;

namespace Loom.Tests.Kernels;

/// <summary>
/// Every kernel written over ISimd, run with each width forced. Element-wise kernels must give the same bits at every
/// width (their steps use IEEE operations only, and a loop's tail runs at narrower widths); reductions, whose order
/// depends on the width, must agree closely. Lengths leave a tail at every width (27 = 16 + 8 + 3 floats, 15 = 8 + 4
/// + 3 doubles); on a machine without AVX-512 the 512-bit case runs the widest width there is.
/// </summary>
public class SimdPathTests
{
    private static readonly VectorWidth[] Widths = [VectorWidth.W512, VectorWidth.W256, VectorWidth.Scalar];

    public static TheoryData<int> Lengths => [1, 15, 27, 100];

    [Fact]
    public void Forced_widths_fall_back_to_what_the_hardware_has()
    {
        Assert.NotEqual(VectorWidth.Auto, Simd.Best);
        Assert.Equal(Simd.Best, Simd.Resolve(VectorWidth.Auto));
        Assert.Equal(VectorWidth.Scalar, Simd.Resolve(VectorWidth.Scalar));
        Assert.Equal(Simd.Best, Simd.Resolve(VectorWidth.W512));
        Assert.Equal(Simd.Best == VectorWidth.Scalar ? VectorWidth.Scalar : VectorWidth.W256, Simd.Resolve(VectorWidth.W256));
    }

    // ---------------------------------------------------------------- optimisers

    [Theory, MemberData(nameof(Lengths))]
    public void Sgd_gives_the_reference_bits_at_every_width(int n)
    {
        foreach (var (momentum, dampening, nesterov, first) in new[] { (0.0, 0.0, false, false), (0.9, 0.1, false, true), (0.9, 0.1, false, false), (0.9, 0.0, true, false) })
        {
            Check<float>();
            Check<double>();

            void Check<T>() where T : unmanaged, IFloatingPointIeee754<T>
            {
                T lr = T.CreateTruncating(0.05), wd = T.CreateTruncating(0.01), mu = T.CreateTruncating(momentum), damp = T.CreateTruncating(dampening);
                var (p, g, buf) = (Data<T>(n, 1), Data<T>(n, 2), Data<T>(n, 3));
                SameBitsAtEveryWidth([p, g, buf], (w, b) => OptimizerKernels.Sgd<T>(b[0], b[1], b[2], lr, wd, mu, damp, nesterov, first, w), out var result);
                for (int i = 0; i < n; i++)
                {
                    // torch.optim.sgd's single-tensor loop, one element at a time.
                    T gi = g[i] + wd * p[i];
                    if (mu != T.Zero)
                    {
                        T b = first ? gi : mu * buf[i] + (T.One - damp) * gi;
                        Assert.Equal(b, result[2][i]);
                        gi = nesterov ? gi + mu * b : b;
                    }
                    Assert.Equal(p[i] - lr * gi, result[0][i]);
                }
            }
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Adam_gives_the_reference_bits_at_every_width(int n)
    {
        foreach (var (decoupled, amsgrad) in new[] { (false, false), (true, false), (false, true) })
        {
            Check<float>();
            Check<double>();

            void Check<T>() where T : unmanaged, IFloatingPointIeee754<T>
            {
                T lr = T.CreateTruncating(1e-3), b1 = T.CreateTruncating(0.9), b2 = T.CreateTruncating(0.999), eps = T.CreateTruncating(1e-8), wd = T.CreateTruncating(0.01);
                const long step = 3;
                var (p, g, m, v, vmax) = (Data<T>(n, 1), Data<T>(n, 2), Data<T>(n, 3), Squares<T>(n, 4), Squares<T>(n, 5));
                SameBitsAtEveryWidth([p, g, m, v, vmax], (w, b) => OptimizerKernels.Adam<T>(b[0], b[1], b[2], b[3], amsgrad ? b[4] : default,
                    lr, b1, b2, eps, wd, decoupled, step, w), out var result);
                T bc1 = T.One - T.Pow(b1, T.CreateTruncating(step)), bc2 = T.Sqrt(T.One - T.Pow(b2, T.CreateTruncating(step)));
                for (int i = 0; i < n; i++)
                {
                    T gi = g[i] + (decoupled ? T.Zero : wd) * p[i];
                    T pi = p[i] * (decoupled ? T.One - lr * wd : T.One);
                    T mi = b1 * m[i] + (T.One - b1) * gi;
                    T vi = b2 * v[i] + (T.One - b2) * gi * gi;
                    if (amsgrad) vi = T.Max(vmax[i], vi);
                    Assert.Equal(mi, result[2][i]);
                    Assert.Equal(pi - lr / bc1 * mi / (T.Sqrt(vi) / bc2 + eps), result[0][i]);
                }
            }
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void RmsProp_gives_the_reference_bits_at_every_width(int n)
    {
        foreach (var (centered, momentum) in new[] { (false, 0.0), (true, 0.0), (true, 0.9), (false, 0.9) })
        {
            Check<float>();
            Check<double>();

            void Check<T>() where T : unmanaged, IFloatingPointIeee754<T>
            {
                T lr = T.CreateTruncating(1e-2), alpha = T.CreateTruncating(0.99), eps = T.CreateTruncating(1e-8), wd = T.CreateTruncating(0.01), mu = T.CreateTruncating(momentum);
                var (p, g, sq, ga, buf) = (Data<T>(n, 1), Data<T>(n, 2), Squares<T>(n, 3), Data<T>(n, 4), Data<T>(n, 5));
                for (int i = 0; i < n; i++) ga[i] *= T.CreateTruncating(0.01); // keeps sq − ga² positive
                SameBitsAtEveryWidth([p, g, sq, ga, buf], (w, b) => OptimizerKernels.RmsProp<T>(b[0], b[1], b[2], centered ? b[3] : default,
                    momentum > 0 ? b[4] : default, lr, alpha, eps, wd, mu, w), out var result);
                for (int i = 0; i < n; i++)
                {
                    T gi = g[i] + wd * p[i];
                    T s = alpha * sq[i] + (T.One - alpha) * gi * gi;
                    T avg = centered ? T.Sqrt(s - Square(alpha * ga[i] + (T.One - alpha) * gi)) + eps : T.Sqrt(s) + eps;
                    Assert.Equal(momentum > 0 ? p[i] - lr * (mu * buf[i] + gi / avg) : p[i] - lr * gi / avg, result[0][i]);
                }
            }
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Adagrad_gives_the_reference_bits_at_every_width(int n)
    {
        Check<float>();
        Check<double>();

        void Check<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            T lr = T.CreateTruncating(1e-2), decay = T.CreateTruncating(0.1), eps = T.CreateTruncating(1e-10), wd = T.CreateTruncating(0.01);
            var (p, g, sum) = (Data<T>(n, 1), Data<T>(n, 2), Squares<T>(n, 3));
            SameBitsAtEveryWidth([p, g, sum], (w, b) => OptimizerKernels.Adagrad<T>(b[0], b[1], b[2], lr, decay, eps, wd, 4, w), out var result);
            T clr = lr / (T.One + T.CreateTruncating(3) * decay);
            for (int i = 0; i < n; i++)
            {
                T gi = g[i] + wd * p[i];
                Assert.Equal(p[i] - clr * gi / (T.Sqrt(sum[i] + gi * gi) + eps), result[0][i]);
            }
        }
    }

    // ---------------------------------------------------------------- other element-wise kernels

    [Theory, MemberData(nameof(Lengths))]
    public void Element_wise_kernels_give_the_same_bits_at_every_width(int n)
    {
        var x = Data<float>(n, 1);
        var y = Data<float>(n, 2);
        var w = Data<float>(n, 3);
        var b = Data<float>(n, 4);
        if (n > 3) (x[0], y[0], x[1], y[2]) = (float.NaN, float.NaN, float.NaN, float.NaN);
        SameBitsAtEveryWidth([x, w, b, new float[n]], (width, s) => NormKernels.Normalize<float>(s[0], 0.25f, 1.5f, s[1], s[2], s[3], width), out _);
        SameBitsAtEveryWidth([x, new float[n]], (width, s) => NormKernels.Normalize<float>(s[0], 0.25f, 1.5f, default, default, s[1], width), out _);
        SameBitsAtEveryWidth([x, y, new float[n]], (width, s) => ReductionKernels.EqualMask<float>(s[0], s[1], s[2], width), out var mask);
        for (int i = 0; i < n; i++)
            Assert.Equal(x[i] == y[i] || (float.IsNaN(x[i]) && float.IsNaN(y[i])) ? 1f : 0f, mask[2][i]);
        var xs = Data<float>(n, 5);
        SameBitsAtEveryWidth([Data<double>(n, 6)], (width, s) => ReductionKernels.AccumulateWidened(xs, s[0], width), out var accumulated);
        var before = Data<double>(n, 6);
        for (int i = 0; i < n; i++) Assert.Equal(before[i] + xs[i], accumulated[0][i]);
    }

    [Fact]
    public void Logical_right_shift_moves_a_float_bit_field_down_at_every_width()
    {
        // GELU's lower tail indexes its tables by bits 21–24 of z + 1: the shift must be logical (a negative float
        // keeps no sign bits) and reach Lookup16's index bits on every width alike.
        float[] values = [1f, 1.25f, 2.75f, 15.5f, -3f, float.NaN, float.PositiveInfinity, 0f, -0f, 1e-30f, 3.4e38f, -1.5f, 7f, 9f, 0.5f, 12f];
        var expected = values.Select(v => BitConverter.SingleToUInt32Bits(v) >> 21).ToArray();
        Assert.Equal(expected, Shifted<System.Runtime.Intrinsics.Vector512<float>, Simd512<float>>());
        Assert.Equal(expected, Shifted<System.Runtime.Intrinsics.Vector256<float>, Simd256<float>>());
        Assert.Equal(expected, Shifted<float, Simd1<float>>());

        uint[] Shifted<TV, TS>() where TV : struct where TS : ISimd<TV, float>
        {
            var result = new float[values.Length];
            for (int i = 0; i < values.Length; i += TS.Count)
                TS.Store(TS.ShiftRightLogical(TS.Load(in values[i], 0), 21), ref result[i], 0);
            return result.Select(BitConverter.SingleToUInt32Bits).ToArray();
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Sign_gives_minus_one_zero_or_one_at_every_width(int n)
    {
        // ±0 and NaN give 0 (PyTorch's sign); integers take the same masks.
        var x = Data<float>(n, 7);
        if (n > 3) (x[0], x[1], x[2]) = (float.NaN, -0f, 0f);
        Check(x);
        Check(Data<double>(n, 8));
        Check(Data<double>(n, 9).Select(v => (int)(v * 3)).ToArray());
        Check(Data<double>(n, 10).Select(v => (long)(v * 3)).ToArray());

        static void Check<T>(T[] values) where T : unmanaged, INumber<T>
        {
            SameBitsAtEveryWidth([new T[values.Length]], (w, s) => SignOperator<T>.Apply(values, s[0], w), out var sign);
            for (int i = 0; i < values.Length; i++)
                Assert.Equal(values[i] > T.Zero ? T.One : values[i] < T.Zero ? -T.One : T.Zero, sign[0][i]);
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Masked_fill_gives_the_same_bits_at_every_width(int n)
    {
        // Mask bytes other than 0 and 1 count as true, as the kernel reads them.
        var mask = Enumerable.Range(0, n).Select(i => i % 3 == 0).ToArray();
        MemoryMarshal.AsBytes(mask.AsSpan())[n / 2] = 0x80;
        Check<byte>(7);
        Check<int>(-7);
        Check<long>(long.MinValue);

        void Check<T>(T value) where T : unmanaged
        {
            var source = Enumerable.Range(0, n).Select(i => (T)Convert.ChangeType(i % 100, typeof(T))).ToArray();
            foreach (var width in Widths)
            {
                var result = new T[n];
                IndexingKernels.MaskedFill<T>(source, mask, value, result, width);
                for (int i = 0; i < n; i++) Assert.Equal(MemoryMarshal.AsBytes(mask.AsSpan())[i] != 0 ? value : source[i], result[i]);
            }
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Recurrent_backward_kernels_give_the_same_bits_at_every_width(int n)
    {
        var gates = Data<double>(4 * n, 1);
        var (c, cPrev, dh, h, dc) = (Data<double>(n, 2), Data<double>(n, 3), Data<double>(n, 4), Data<double>(n, 5), Data<double>(n, 6));
        SameBitsAtEveryWidth([dc, new double[n], new double[4 * n]],
            (w, s) => RecurrentKernels.LstmBackward<double>(gates, c, cPrev, dh, s[0], s[1], s[2], w), out var lstm);
        SameBitsAtEveryWidth([new double[3 * n], new double[3 * n], new double[n]],
            (w, s) => RecurrentKernels.GruBackward<double>(gates.AsSpan(0, 3 * n), c, cPrev, dh, s[0], s[1], s[2], w), out var gru);
        SameBitsAtEveryWidth([new double[n]], (w, s) => RecurrentKernels.RnnBackward<double>(h, dh, true, s[0], w), out var relu);
        SameBitsAtEveryWidth([new double[n]], (w, s) => RecurrentKernels.RnnBackward<double>(h, dh, false, s[0], w), out var tanh);
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(h[k] > 0 ? dh[k] : 0, relu[0][k]);
            Assert.Equal(dh[k] * (1 - h[k] * h[k]), tanh[0][k]);
            // The documented formulas, evaluated in the kernels' order of operations: the same bits.
            double i = gates[k], f = gates[n + k], g = gates[2 * n + k], o = gates[3 * n + k], tc = lstm[1][k];
            double dct = dc[k] + dh[k] * o * (1 - tc * tc);
            Assert.Equal([dct * g * i * (1 - i), dct * cPrev[k] * f * (1 - f), dct * i * (1 - g * g), dh[k] * tc * o * (1 - o)],
                [lstm[2][k], lstm[2][n + k], lstm[2][2 * n + k], lstm[2][3 * n + k]]);
            Assert.Equal(dct * f, lstm[0][k]);
            double r = gates[k], z = gates[n + k], candidate = gates[2 * n + k];
            double dn = dh[k] * (1 - z) * (1 - candidate * candidate), dr = dn * c[k] * r * (1 - r), dz = dh[k] * (cPrev[k] - candidate) * z * (1 - z);
            Assert.Equal([dr, dz, dn], [gru[0][k], gru[0][n + k], gru[0][2 * n + k]]);
            Assert.Equal([dr, dz, dn * r], [gru[1][k], gru[1][n + k], gru[1][2 * n + k]]);
            Assert.Equal(dh[k] * z, gru[2][k]);
        }
    }

    // ---------------------------------------------------------------- reductions

    [Theory, MemberData(nameof(Lengths))]
    public void Reductions_agree_at_every_width(int n)
    {
        var x = Data<float>(n, 1);
        double sum = x.Sum(v => (double)v), mean = sum / n, squares = x.Sum(v => (v - (float)mean) * (double)(v - (float)mean));
        foreach (var width in Widths)
        {
            Assert.Equal(sum, ReductionKernels.SumWidened(x, width), 1e-12);
            Assert.Equal(squares, NormKernels.SquaredDeviations<float>(x, (float)mean, width), squares * 1e-5);
            // Found in the vector body, in the tail and nowhere; NaN found by being NaN.
            foreach (int at in new[] { 0, n / 2, n - 1 })
                Assert.Equal(Array.IndexOf(x, x[at]), ReductionKernels.IndexOfFirst<float>(x, x[at], width));
            Assert.Equal(-1, ReductionKernels.IndexOfFirst<float>(x, 42f, width));
            var withNaN = (float[])x.Clone();
            withNaN[n - 1] = float.NaN;
            Assert.Equal(n - 1, ReductionKernels.IndexOfFirst<float>(withNaN, float.NaN, width));
            Assert.Equal(n - 1, ReductionKernels.IndexOfFirst<int>(Enumerable.Range(0, n).ToArray(), n - 1, width));
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Layer_norm_forward_agrees_with_float64_at_every_width(int n)
    {
        const int rows = 3;
        var x = Data<float>(rows * n, 1).Select(v => v + 3f).ToArray(); // an offset, so that the mean matters
        var w = Data<float>(n, 2);
        var b = Data<float>(n, 3);
        var expected = new double[rows * n];
        ReferenceNorm.LayerNorm(x.Select(v => (double)v).ToArray(), rows, n, w.Select(v => (double)v).ToArray(), b.Select(v => (double)v).ToArray(),
            1e-5, expected);
        foreach (var width in Widths)
        {
            var (y, mean, rstd) = (new float[rows * n], new float[rows], new float[rows]);
            NormKernels.LayerNorm<float>(x, rows, n, w, b, 1e-5f, y, mean, rstd, width);
            for (int i = 0; i < rows * n; i++) Assert.Equal(expected[i], y[i], 1e-4 * (1 + Math.Abs(expected[i])));
            for (int r = 0; r < rows; r++) Assert.Equal(x.Skip(r * n).Take(n).Average(v => (double)v), mean[r], 1e-5);
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Layer_norm_and_rms_norm_backward_agree_with_float64_at_every_width(int n)
    {
        // Three rows; dweight and dbias start from a previous contribution, to which the kernel must add.
        const int rows = 3;
        var x = Data<float>(rows * n, 1);
        var dy = Data<float>(rows * n, 2);
        var w = Data<float>(n, 3);
        var prior = Data<float>(n, 4);
        var mean = new[] { 0.25f, -0.5f, 0.125f };
        var scale = new[] { 1.5f, 0.75f, 2f };
        foreach (bool centered in new[] { true, false })
        foreach (bool affine in new[] { true, false })
        {
            var (dx, dw, db) = Expected(centered, affine);
            foreach (var width in Widths)
            {
                var (gx, gw, gb) = (new float[rows * n], (float[])prior.Clone(), (float[])prior.Clone());
                if (centered) NormKernels.LayerNormBackward<float>(dy, x, rows, n, affine ? w : default, mean, scale, gx, gw, gb, width);
                else NormKernels.RmsNormBackward<float>(dy, x, rows, n, affine ? w : default, scale, gx, gw, width);
                for (int i = 0; i < rows * n; i++) Assert.Equal(dx[i], gx[i], 2e-5 * (1 + Math.Abs(dx[i])));
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(dw[i], gw[i], 2e-5 * (1 + Math.Abs(dw[i])));
                    Assert.Equal(centered ? db[i] : prior[i], gb[i], 2e-5 * (1 + Math.Abs(db[i])));
                }
                // dx alone, without the parameter gradients.
                var only = new float[rows * n];
                if (centered) NormKernels.LayerNormBackward<float>(dy, x, rows, n, affine ? w : default, mean, scale, only, default, default, width);
                else NormKernels.RmsNormBackward<float>(dy, x, rows, n, affine ? w : default, scale, only, default, width);
                Assert.Equal(gx, only);
                // Another gradient of x added as dx is written: the bits of adding it afterwards.
                var other = Data<float>(rows * n, 5);
                var summed = new float[rows * n];
                if (centered) NormKernels.LayerNormBackward<float>(dy, x, rows, n, affine ? w : default, mean, scale, summed, default, default, width, other);
                else NormKernels.RmsNormBackward<float>(dy, x, rows, n, affine ? w : default, scale, summed, default, width, other);
                for (int i = 0; i < rows * n; i++) Assert.Equal(other[i] + gx[i], summed[i]);
            }
        }

        (double[] Dx, double[] Dw, double[] Db) Expected(bool centered, bool affine)
        {
            var (dx, dw, db) = (new double[rows * n], prior.Select(v => (double)v).ToArray(), prior.Select(v => (double)v).ToArray());
            for (int r = 0; r < rows; r++)
            {
                var norm = new double[n];
                var d = new double[n];
                for (int i = 0; i < n; i++)
                {
                    norm[i] = ((double)x[r * n + i] - (centered ? mean[r] : 0)) * scale[r];
                    d[i] = dy[r * n + i] * (affine ? (double)w[i] : 1);
                    dw[i] += dy[r * n + i] * norm[i];
                    db[i] += dy[r * n + i];
                }
                double meanD = d.Average(), meanDx = d.Zip(norm, (a, b) => a * b).Average();
                for (int i = 0; i < n; i++) dx[r * n + i] = scale[r] * (d[i] - (centered ? meanD : 0) - norm[i] * meanDx);
            }
            return (dx, dw, db);
        }
    }

    [Theory, MemberData(nameof(Lengths))]
    public void Batch_norm_relu_backward_rows_agree_at_every_width(int s)
    {
        const int rows = 3;
        var dy = Data<double>(rows * s, 1);
        var x = Data<double>(rows * s, 2);
        var y = Data<double>(rows * s, 3); // ReLU's output: only its sign and NaN matter
        y[0] = 0;
        y[^1] = double.NaN;
        double[] center = [0.1, -0.2, 0.3], k1 = [1.5, -0.5, 2], k2 = [0.25, 1, -1], k3 = [0, 0.5, -0.125];
        SameBitsAtEveryWidth([new double[rows * s]], (w, b) => NormKernels.RowAffine2Masked<double>(dy, y, x, rows, s, k1, k2, k3, b[0], w), out var dx);
        for (int r = 0; r < rows; r++)
        {
            double sum = 0, centered = 0;
            for (int i = r * s; i < (r + 1) * s; i++)
            {
                double g = y[i] <= 0 ? 0 : dy[i]; // passes at NaN, as PyTorch's threshold_backward
                Assert.Equal(g * k1[r] + x[i] * k2[r] + k3[r], dx[0][i]);
                sum += g;
                centered += g * (x[i] - center[r]);
            }
            foreach (var width in Widths)
            {
                double[] sums = new double[rows], centeredSums = new double[rows];
                NormKernels.RowMaskedSums<double>(dy, y, x, rows, s, center, sums, centeredSums, width);
                Assert.Equal(sum, sums[r], 1e-12);
                Assert.Equal(centered, centeredSums[r], 1e-12);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Runs <paramref name="kernel"/> on fresh copies of <paramref name="buffers"/> at each width; all must end bit for bit alike.</summary>
    private static void SameBitsAtEveryWidth<T>(T[][] buffers, Action<VectorWidth, T[][]> kernel, out T[][] result) where T : unmanaged
    {
        T[][]? first = null;
        foreach (var width in Widths)
        {
            var copies = buffers.Select(b => (T[])b.Clone()).ToArray();
            kernel(width, copies);
            first ??= copies;
            for (int k = 0; k < copies.Length; k++)
                Assert.True(MemoryMarshal.AsBytes(first[k].AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(copies[k].AsSpan())), $"buffer {k} differs on {width}");
        }
        result = first!;
    }

    private static T[] Data<T>(int n, int seed) where T : unmanaged, INumberBase<T> =>
        TestTensors.Randn(seed, DType.Float64, n).ToArray<double>().Select(T.CreateTruncating).ToArray();

    private static T[] Squares<T>(int n, int seed) where T : unmanaged, IFloatingPointIeee754<T> => Data<T>(n, seed).Select(v => v * v).ToArray();

    private static T Square<T>(T v) where T : INumberBase<T> => v * v;
}
