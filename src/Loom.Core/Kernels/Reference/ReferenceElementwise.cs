namespace Loom.Kernels.Reference;

/// <summary>
/// Naive element-wise definitions in double, one element at a time with explicit broadcast index arithmetic, kept
/// forever as the oracle the fast kernels are tested against. Written for obviousness, not speed: erf is a numerical
/// integral of its definition.
/// </summary>
public static class ReferenceElementwise
{
    /// <summary>f(x) for each element.</summary>
    public static double[] Unary(ReadOnlySpan<double> x, Func<double, double> f)
    {
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++) result[i] = f(x[i]);
        return result;
    }

    /// <summary>f(a, b) with NumPy broadcasting of row-major <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static double[] Binary(ReadOnlySpan<double> a, Shape aShape, ReadOnlySpan<double> b, Shape bShape, Func<double, double, double> f, out Shape shape)
    {
        shape = Shape.Broadcast(aShape, bShape, "reference");
        var result = new double[shape.Numel];
        for (int i = 0; i < result.Length; i++)
            result[i] = f(a[SourceIndex(i, shape, aShape)], b[SourceIndex(i, shape, bShape)]);
        return result;
    }

    /// <summary>condition ? a : b with broadcasting of all three.</summary>
    public static double[] Where(ReadOnlySpan<bool> condition, Shape conditionShape, ReadOnlySpan<double> a, Shape aShape, ReadOnlySpan<double> b, Shape bShape, out Shape shape)
    {
        shape = Shape.Broadcast(Shape.Broadcast(conditionShape, aShape, "reference"), bShape, "reference");
        var result = new double[shape.Numel];
        for (int i = 0; i < result.Length; i++)
            result[i] = condition[SourceIndex(i, shape, conditionShape)] ? a[SourceIndex(i, shape, aShape)] : b[SourceIndex(i, shape, bShape)];
        return result;
    }

    /// <summary>The row-major index in a tensor of <paramref name="source"/> shape that output element <paramref name="flat"/> reads.</summary>
    public static int SourceIndex(int flat, Shape output, Shape source)
    {
        int index = 0, stride = 1;
        for (int axis = output.Rank - 1, s = source.Rank - 1; axis >= 0; axis--, s--)
        {
            int i = flat % output[axis];
            flat /= output[axis];
            if (s < 0) continue;
            if (source[s] != 1) index += i * stride;
            stride *= source[s];
        }
        return index;
    }

    // ------------------------------------------------------------------ scalar definitions

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public static double Relu(double x) => x > 0 ? x : (double.IsNaN(x) ? x : 0);

    public static double LeakyRelu(double x, double slope) => x > 0 ? x : slope * x;

    public static double Silu(double x) => x * Sigmoid(x);

    /// <summary>x·Φ(x) with Φ(x) = ½·erfc(−x/√2).</summary>
    public static double Gelu(double x) => x * 0.5 * Erfc(-x / Math.Sqrt(2));

    public static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    public static double Softplus(double x, double beta, double threshold) =>
        x * beta > threshold ? x : Math.Log(1 + Math.Exp(beta * x)) / beta;

    /// <summary>erf(x) = 2/√π ∫₀ˣ exp(−t²) dt, by Simpson's rule; for |x| &gt; 1 as 1 − erfc(|x|).</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double t = Math.Abs(x);
        double r = t <= 1 ? Integral(0, t) : 1 - Erfc(t);
        return x < 0 ? -r : r;
    }

    /// <summary>
    /// erfc(x) = 2/√π ∫ₓ^∞ exp(−t²) dt. The integral is cut at x + d with 2xd + d² = 80, where the integrand has
    /// fallen to e⁻⁸⁰ of its start.
    /// </summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x < 0) return 2 - Erfc(-x);
        if (x <= 1) return 1 - Integral(0, x);
        return double.IsPositiveInfinity(x) ? 0 : Integral(x, Math.Sqrt(x * x + 80));
    }

    // Simpson's rule at n and n/2 intervals combined by one Richardson step, (16·S(n) − S(n/2))/15, which cancels
    // the h⁴ error term: relative error ~1e-14 for these ranges, where Simpson alone would give ~1e-11.
    private static double Integral(double a, double b) => (16 * Simpson(a, b, 4000) - Simpson(a, b, 2000)) / 15;

    private static double Simpson(double a, double b, int n)
    {
        double h = (b - a) / n, sum = F(a) + F(b);
        for (int i = 1; i < n; i++) sum += (i % 2 == 1 ? 4 : 2) * F(a + i * h);
        return sum * h / 3;

        static double F(double t) => 2 / Math.Sqrt(Math.PI) * Math.Exp(-t * t);
    }
}
