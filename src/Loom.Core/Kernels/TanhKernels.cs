namespace Loom.Kernels;

/// <summary>
/// tanh of a float32 or float64 span, within about 1 ulp for every input, denormals included. Tensor.Tanh, the fused
/// linear epilogue and the RNN, LSTM and GRU cells all use it.
/// </summary>
/// <remarks>
/// It replaces TensorPrimitives.Tanh (System.Numerics.Tensors 10.0.0). Its vectorised path computes tanh from
/// expm1(−2|x|), and that expm1 is exp − 1, which cancels for small |x|: float32 tanh(1e-6) gave 9.5e-7 and
/// tanh(1e-30) gave −6e-8; float64 tanh(1e-300) gave −0.
///
/// Here, with a = |x| and s = x², for a below a split tanh a = a + a·s·P(s). P is a least-squares fit on Chebyshev
/// nodes: to 0.007 ulp below 1 in float32 (degree 7), to 0.004 ulp below 0.625 in float64 (degree 11). For tiny
/// a the correction underflows, so a itself comes back, denormals included. Above the split, tanh a = 1 − 2e/(1 + e)
/// with e = exp(−2a) ≤ 0.29, which does not cancel (the float32 split is higher because float32 exp is only within
/// 1 ulp: a split at 0.625 gave 1.3 ulp, at 0.875 1.06 ulp). The sign of x is put back last, so tanh(−0) = −0. Both
/// branches are computed for the whole vector and blended, so the time does not depend on the data.
/// Each formula is written once over <see cref="ISimd{TV, T}"/> and run by <see cref="Simd.For{T, TStep}"/>, whose
/// tail runs at narrower widths down to single elements. Every operation rounds as IEEE 754 says (fused multiply-adds
/// included, at every width), so an element's result does not depend on the width or on where it sits.
/// float32 uses <see cref="ExpKernels"/>' exp. float64 uses its own exp below, on [−40, 0] only (tanh is 1 beyond 20).
/// </remarks>
internal static class TanhKernels
{
    /// <summary>y = tanh x for float or double elements (<paramref name="y"/> may be <paramref name="x"/>).</summary>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        // The width is passed so that overload resolution does not pick this method again (T = float needs no default).
        if (typeof(T) == typeof(float)) Tanh(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), VectorWidth.Auto);
        else if (typeof(T) == typeof(double)) Tanh(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y), VectorWidth.Auto);
        else throw new NotSupportedException($"tanh: element type {typeof(T).Name} is not supported (float32 or float64 only)");
    }

    /// <summary>y = tanh x, float32 (<paramref name="y"/> may be <paramref name="x"/>).</summary>
    /// <param name="width">The register width (tests compare them); every width gives the same bits.</param>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y, VectorWidth width = VectorWidth.Auto)
    {
        if (y.Length < x.Length) throw new ArgumentException($"tanh: destination of {y.Length} elements is shorter than the input ({x.Length})");
        Simd.For<float, MapStep<float, Tanh32>>(new(x, y), x.Length, width);
    }

    /// <summary>y = tanh x, float64 (<paramref name="y"/> may be <paramref name="x"/>).</summary>
    /// <param name="width">The register width (tests compare them); every width gives the same bits.</param>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(ReadOnlySpan<double> x, Span<double> y, VectorWidth width = VectorWidth.Auto)
    {
        if (y.Length < x.Length) throw new ArgumentException($"tanh: destination of {y.Length} elements is shorter than the input ({x.Length})");
        Simd.For<double, MapStep<double, Tanh64>>(new(x, y), x.Length, width);
    }

    /// <summary>tanh of one float, by the same formula as the spans.</summary>
    public static float Tanh(float x) => Tanh32.Apply<float, Simd1<float>>(x);

    /// <summary>tanh of one double, by the same formula as the spans.</summary>
    public static double Tanh(double x) => Tanh64.Apply<double, Simd1<double>>(x);

    private readonly struct Tanh32 : ISimdMap<float>
    {
        private const float Split = 1f;

        // P(s): tanh x / x − 1 = s·P(s), s = x² ≤ 1.
        private const float F0 = -0.333333283662796f, F1 = 0.13333190977573395f, F2 = -0.05395236238837242f;
        private const float F3 = 0.02178184688091278f, F4 = -0.008589019067585468f, F5 = 0.003071458777412772f;
        private const float F6 = -0.0008367857662960887f, F7 = 0.00012039187276968732f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float>
        {
            var a = TS.Abs(x);
            var s = TS.Multiply(x, x);
            var p = Horner<TV, TS, float>(Horner<TV, TS, float>(TS.Create(F7), s, F6, F5, F4, F3), s, F2, F1, F0);
            // exp(−2|x|) is 0 below −87.3 (and for −∞), which gives tanh = ±1.
            var e = ExpKernels.Exp<TV, TS>(TS.Multiply(a, TS.Create(-2f)));
            return Blend<TV, TS, float>(x, a, TS.MultiplyAdd(TS.Multiply(a, s), p, a), e, Split);
        }
    }

    private readonly struct Tanh64 : ISimdMap<double>
    {
        private const double Split = 0.625;
        private const double Saturate = 20; // tanh(20) = 1 − 8.5e-18 rounds to 1

        // P(s) as for float32.
        private const double D0 = -0.3333333333333331, D1 = 0.1333333333332956, D2 = -0.05396825396597309;
        private const double D3 = 0.021869488466646964, D4 = -0.00886323428311881, D5 = 0.0035921137331605467;
        private const double D6 = -0.0014557243543466927, D7 = 0.0005894454319946284, D8 = -0.00023699489817603303;
        private const double D9 = 9.153014916229132e-05, D10 = -3.0159923691669275e-05, D11 = 6.030921439640456e-06;

        // exp: Cody–Waite split of ln 2 (fdlibm's), then Taylor to degree 13 on |r| ≤ ln 2/2 (error 4e-18).
        private const double Log2E = 1.4426950408889634;
        private const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, double>
        {
            var a = TS.Abs(x);
            var s = TS.Multiply(x, x);
            var p = Horner<TV, TS, double>(Horner<TV, TS, double>(TS.Create(D11), s, D10, D9, D8, D7), s, D6, D5, D4, D3);
            p = Horner<TV, TS, double>(p, s, D2, D1, D0);
            // Saturated lanes get exp(−40) (a comparison, not Min, so that NaN stays NaN), then e = 0, which gives 1.
            var saturated = TS.GreaterThan(a, TS.Create(Saturate));
            var e = ExpNegative<TV, TS>(TS.Select(saturated, TS.Create(-2 * Saturate), TS.Multiply(a, TS.Create(-2.0))));
            return Blend<TV, TS, double>(x, a, TS.MultiplyAdd(TS.Multiply(a, s), p, a), TS.Select(saturated, TS.Zero, e), Split);
        }

        /// <summary>exp(y) for y in [−40, 0] (or NaN): no overflow, underflow or denormal handling needed there.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV ExpNegative<TV, TS>(TV y) where TV : struct where TS : ISimd<TV, double>
        {
            var n = TS.Round(TS.Multiply(y, TS.Create(Log2E)));
            var r = TS.MultiplyAdd(n, TS.Create(-Ln2Hi), y);
            r = TS.MultiplyAdd(n, TS.Create(-Ln2Lo), r);
            // Taylor coefficients 1/13!, 1/12!, …, 1/2!.
            var p = Horner<TV, TS, double>(TS.Create(1.0 / 6227020800), r, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880);
            p = Horner<TV, TS, double>(Horner<TV, TS, double>(p, r, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120), r, 1.0 / 24, 1.0 / 6, 0.5);
            p = TS.Add(TS.MultiplyAdd(p, TS.Multiply(r, r), r), TS.One);
            // n ≥ −58 and p is in [½, 2], so 2ⁿ·p is normal and exact.
            return TS.ScaleB(p, n);
        }
    }

    /// <summary>
    /// What both precisions share: <paramref name="small"/> below the split, 1 − 2e/(1 + e) above it, then x's sign
    /// bit copied onto the result (which is ≥ 0 or NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Blend<TV, TS, T>(TV x, TV a, TV small, TV e, T split)
        where TV : struct where TS : ISimd<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var large = TS.Subtract(TS.One, TS.Divide(TS.Add(e, e), TS.Add(TS.One, e)));
        var t = TS.Select(TS.LessThan(a, TS.Create(split)), small, large);
        return TS.Or(t, TS.And(x, TS.Create(T.NegativeZero)));
    }

    // Horner's rule continued from p by three or four coefficients, in fused multiply-adds: the polynomials above
    // are straight-line chains of these (a loop over a coefficient table is not unrolled by the JIT).

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Horner<TV, TS, T>(TV p, TV x, T c1, T c2, T c3) where TV : struct where TS : ISimd<TV, T> where T : unmanaged =>
        TS.MultiplyAdd(TS.MultiplyAdd(TS.MultiplyAdd(p, x, TS.Create(c1)), x, TS.Create(c2)), x, TS.Create(c3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Horner<TV, TS, T>(TV p, TV x, T c1, T c2, T c3, T c4) where TV : struct where TS : ISimd<TV, T> where T : unmanaged =>
        TS.MultiplyAdd(Horner<TV, TS, T>(p, x, c1, c2, c3), x, TS.Create(c4));
}
