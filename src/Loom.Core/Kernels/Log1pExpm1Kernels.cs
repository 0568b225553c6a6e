namespace Loom.Kernels;

/// <summary>
/// log(1 + x) and eˣ − 1 accurate to about one ulp for every x, including |x| far below 1 where the naive forms lose
/// every digit (log(1 + 1e-10) computed as written is off by 1e-7 relative; .NET's double.LogP1 and ExpM1 and
/// TensorPrimitives' vector forms compute exactly that). float32 is computed in double and rounded once.
/// </summary>
/// <remarks>Scalar loops: correctness first. A vectorised form can replace the loop once the SIMD abstraction settles;
/// the precision sweeps (tests/Loom.Core.Tests/OpInfo) then hold it to the same accuracy.</remarks>
internal static class Log1pExpm1Kernels
{
    /// <summary>
    /// log1p(x) = log(s) + e/s where s + e = 1 + x exactly (s the rounded sum, e its rounding error by TwoSum): the
    /// correction restores what rounding 1 + x lost, and Math.Log (the C library's, under 1 ulp) does the rest.
    /// </summary>
    public static double Log1p(double x)
    {
        if (!(x > -1)) return x == -1 ? double.NegativeInfinity : double.NaN;
        if (double.IsPositiveInfinity(x)) return x;
        double s = 1 + x;
        if (s == 1) return x; // |x| < 2⁻⁵³: log(1 + x) = x − x²/2 + … rounds to x
        double bp = s - x;
        double e = (1 - bp) + (x - (s - bp));
        return Math.Log(s) + e / s;
    }

    /// <summary>
    /// expm1(x): for |x| &lt; ½ the Taylor series x(1 + x/2(1 + x/3(1 + …))) to 18 terms (the next term is below 2⁻⁶⁴ of
    /// the sum), whose inner sum lies in [0.78, 1.3] so each step's rounding is damped; beyond, eˣ − 1 loses at most
    /// one bit (eˣ ≥ 1.65 or the subtraction is exact by Sterbenz).
    /// </summary>
    public static double Expm1(double x)
    {
        if (Math.Abs(x) >= 0.5 || double.IsNaN(x)) return Math.Exp(x) - 1;
        double sum = 1;
        for (int k = 18; k >= 2; k--) sum = 1 + x * sum * InverseOf[k];
        return x * sum;
    }

    private static readonly double[] InverseOf = [.. Enumerable.Range(0, 19).Select(k => k == 0 ? 0 : 1.0 / k)];

    public static float Log1p(float x) => (float)Log1p((double)x);

    public static float Expm1(float x) => (float)Expm1((double)x);
}

internal readonly struct Log1pOperator : IUnaryOperator<float>, IUnaryOperator<double>
{
    public void Invoke(ReadOnlySpan<float> x, Span<float> d)
    {
        for (int i = 0; i < x.Length; i++) d[i] = Log1pExpm1Kernels.Log1p(x[i]);
    }

    public void Invoke(ReadOnlySpan<double> x, Span<double> d)
    {
        for (int i = 0; i < x.Length; i++) d[i] = Log1pExpm1Kernels.Log1p(x[i]);
    }
}

internal readonly struct Expm1Operator : IUnaryOperator<float>, IUnaryOperator<double>
{
    public void Invoke(ReadOnlySpan<float> x, Span<float> d)
    {
        for (int i = 0; i < x.Length; i++) d[i] = Log1pExpm1Kernels.Expm1(x[i]);
    }

    public void Invoke(ReadOnlySpan<double> x, Span<double> d)
    {
        for (int i = 0; i < x.Length; i++) d[i] = Log1pExpm1Kernels.Expm1(x[i]);
    }
}
