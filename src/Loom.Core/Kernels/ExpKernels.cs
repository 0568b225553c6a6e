namespace Loom.Kernels;

/// <summary>
/// The float32 exp, written once over <see cref="ISimd{TV, T}"/>, and the fused pass softmax, log-softmax and
/// cross-entropy need: y = exp(x − shift) and Σ y in one pass, instead of separate subtract, exp and sum passes.
/// </summary>
/// <remarks>
/// exp(x) = 2ⁿ · exp(r) with n = round(x · log₂e) and r = x − n · ln 2 (Cody–Waite split of ln 2, so r is exact to
/// float precision), exp(r) by Cephes' degree-7 polynomial on [−ln 2/2, ln 2/2] (≈1 ulp), and 2ⁿ applied by
/// <see cref="ISimd{TV, T}.ScaleB"/>, which rounds once, so results underflow gradually through the subnormals to 0
/// and overflow to +∞ exactly where float's range ends. x is first clamped to [−104, 89] (beyond which the result is 0
/// or +∞ anyway) so that ±∞ do not turn into ∞ − ∞; NaN stays NaN. Every operation rounds as IEEE says, so every width
/// gives bit-identical values. TensorPrimitives.Exp is avoided for float32 because it evaluates in double precision,
/// which halves the vector width.
/// </remarks>
internal static class ExpKernels
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float Lowest = -104f;
    private const float Highest = 89f;
    // Cephes' coefficients of (exp(r) − 1 − r)/r², constant term first.
    private const float P0 = 5.0000001201e-1f, P1 = 1.6666665459e-1f, P2 = 4.1665795894e-2f;
    private const float P3 = 8.3334519073e-3f, P4 = 1.3981999507e-3f, P5 = 1.9875691500e-4f;

    /// <summary>exp(x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float>
    {
        var r = Reduce<TV, TS>(TS.Clamp(x, TS.Create(Lowest), TS.Create(Highest)), out var n);
        return Expand<TV, TS>(r, n);
    }

    /// <summary>
    /// exp(hi + lo) for |lo| at most half an ulp of hi: the argument as an unevaluated sum, when rounding it to one
    /// float would cost relative accuracy (exp(−z²/2) for large z: rounding z²/2 ≈ 100 alone costs 4·10⁻⁶).
    /// hi must lie in [−170, 88]: not clamped, as callers that need this form already bound it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV, TS>(TV hi, TV lo) where TV : struct where TS : ISimd<TV, float>
    {
        var r = Reduce<TV, TS>(hi, out var n);
        return Expand<TV, TS>(TS.Add(r, lo), n);
    }

    /// <summary>x = n·ln 2 + r with n integral and |r| ≤ ln 2/2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Reduce<TV, TS>(TV x, out TV n) where TV : struct where TS : ISimd<TV, float>
    {
        n = TS.Round(TS.Multiply(x, TS.Create(Log2E)));
        var r = TS.MultiplyAdd(n, TS.Create(-Ln2Hi), x);
        return TS.MultiplyAdd(n, TS.Create(-Ln2Lo), r);
    }

    /// <summary>2ⁿ·exp(r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Expand<TV, TS>(TV r, TV n) where TV : struct where TS : ISimd<TV, float>
    {
        var p = SimdMath.Polynomial<TV, TS>(r, P0, P1, P2, P3, P4, P5);
        p = TS.Add(TS.MultiplyAdd(p, TS.Multiply(r, r), r), TS.One);
        return TS.ScaleB(p, n);
    }

    // exp(−v), v = z²/2, by a table: v = (k/16)·ln 2 + r with k = round(16·v/ln 2), so exp(−v) = 2^(−k/16)·exp(−r),
    // 2^(−k/16) = 2^⌊−k/16⌋·2^(j/16) with j = −k mod 16 from a 16-entry table (one vpermps), and exp(−r), |r| ≤ ln 2/32,
    // needs only a degree-3 polynomial: 13 vector operations from z, where the Cephes form with the exact split of
    // −z²/2 took 16. Within about 1 ulp of the double exp (the table's own rounding is half of it): ExpKernelTests.
    private const float TableShift = 12582912f; // 1.5·2²³: adding it rounds to an integer, held in the low mantissa bits
    private const float EightLog2E = 11.541560327111707f; // 16·log₂e/2: k = round(z·(z·8·log₂e))
    // 2·ln 2/16 = TwoLn2Hi + TwoLn2Lo, TwoLn2Hi of 12 bits, so that k·TwoLn2Hi is exact for k < 2¹² (z ≤ 14.5: k ≤ 2427).
    private const float TwoLn2Hi = 0.086639404296875f, TwoLn2Lo = 3.993272912339307e-06f;
    // exp(−s/2) − 1 ≈ s·(Q1 + s·(Q2 + s·Q3)) for s = 2r, |s| ≤ ln 2/16: minimax for exp(r) − 1 on |r| ≤ 1.01·ln 2/32
    // (Lawson iterations in double, 1.7·10⁻⁹ before rounding), rewritten in s.
    private const float Q1 = -0.5f, Q2 = 0.1250041425228119f, Q3 = -0.020834024995565414f;

    /// <summary>2^(−j/16) scaled into [1, 2) as 2^((16 − j) mod 16 / 16), indexed by j = k mod 16: 2^(j'/16) rounded to float.</summary>
    private static ReadOnlySpan<float> TwoToMinusSixteenths =>
    [
        1f, 1.9152066f, 1.8340081f, 1.7562522f, 1.6817929f, 1.6104903f, 1.5422108f, 1.4768262f,
        1.4142135f, 1.3542556f, 1.2968396f, 1.2418578f, 1.1892071f, 1.1387886f, 1.0905077f, 1.0442737f,
    ];

    /// <summary>
    /// exp(−z²/2) for z in [0, 14.5] (0 from about 14.2 on, through the subnormals; NaN stays NaN), without rounding
    /// z² first: rounding z²/2 ≈ 100 alone would cost 4·10⁻⁶ of relative accuracy. The fused multiply-adds take
    /// z·z exactly into the reduction −z² − k·2·ln 2/16, which is all the argument reduction needs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpMinusHalfSquare<TV, TS>(TV z) where TV : struct where TS : ISimd<TV, float>
    {
        var shifted = TS.MultiplyAdd(TS.Multiply(z, TS.Create(EightLog2E)), z, TS.Create(TableShift));
        var k = TS.Subtract(shifted, TS.Create(TableShift));
        var s = TS.MultiplyAdd(z, z, TS.Multiply(k, TS.Create(-TwoLn2Hi)));
        s = TS.MultiplyAdd(k, TS.Create(-TwoLn2Lo), s); // 2r = z² − k·2·ln 2/16
        var p = TS.Multiply(TS.MultiplyAdd(TS.MultiplyAdd(TS.Create(Q3), s, TS.Create(Q2)), s, TS.Create(Q1)), s);
        // The low four bits of the shifted sum are k mod 16 (k ≥ 0, and 1.5·2²³ has none set).
        var t = TS.Lookup16(in MemoryMarshal.GetReference(TwoToMinusSixteenths), shifted);
        // t·(1 + p) rounded once, then 2^⌊−k/16⌋: ScaleB floors the non-integral −k/16 itself.
        return TS.ScaleB(TS.MultiplyAdd(t, p, t), TS.Multiply(k, TS.Create(-1f / 16)));
    }

    // The same table form for any argument: x = (k/16)·ln 2 + r, k = round(16·x/ln 2) by the shift above (k from −2401
    // to 2054 on the clamped range: the low four bits of the two's complement are k mod 16), exp(x) = 2^⌊k/16⌋ ·
    // 2^((k mod 16)/16) · exp(r). 13 operations to the Cephes form's 15, within 0.98 ulp (ExpKernelTests); measured
    // 1.07-1.12× faster in tanh GELU and SiLU (docs/notes/jit.md). The activations use it; span exps (Tensor.Exp,
    // softmax) keep the Cephes form, where the table was not measured.
    private const float SixteenLog2E = 23.083120346069336f;
    // ln 2/16 = Ln2Over16Hi + Ln2Over16Lo, Hi of 12 bits so that k·Hi is exact for |k| < 2¹².
    private const float Ln2Over16Hi = 0.0433197021484375f, Ln2Over16Lo = 1.9966364561696537e-06f;
    // exp(r) − 1 ≈ r·(1 + r·(E2 + r·E3)), the fit of Q1..Q3 above in r itself (Q2·4, −Q3·8: exact rescalings).
    private const float E2 = 0.5000165700912476f, E3 = 0.16667219996452332f;

    /// <summary>2^(j/16) rounded to float, j = 0..15.</summary>
    private static ReadOnlySpan<float> TwoToSixteenths =>
    [
        1f, 1.0442737f, 1.0905077f, 1.1387886f, 1.1892071f, 1.2418578f, 1.2968396f, 1.3542556f,
        1.4142135f, 1.4768262f, 1.5422108f, 1.6104903f, 1.6817929f, 1.7562522f, 1.8340081f, 1.9152066f,
    ];

    /// <summary>exp(x) by the 16-entry table, lane by lane: clamped as <see cref="Exp{TV, TS}(TV)"/>, NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpByTable<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float>
    {
        x = TS.Clamp(x, TS.Create(Lowest), TS.Create(Highest));
        var shifted = TS.MultiplyAdd(x, TS.Create(SixteenLog2E), TS.Create(TableShift));
        var k = TS.Subtract(shifted, TS.Create(TableShift));
        var r = TS.MultiplyAdd(k, TS.Create(-Ln2Over16Hi), x);
        r = TS.MultiplyAdd(k, TS.Create(-Ln2Over16Lo), r);
        var p = TS.Multiply(TS.MultiplyAdd(TS.MultiplyAdd(TS.Create(E3), r, TS.Create(E2)), r, TS.One), r);
        var t = TS.Lookup16(in MemoryMarshal.GetReference(TwoToSixteenths), shifted);
        return TS.ScaleB(TS.MultiplyAdd(t, p, t), TS.Multiply(k, TS.Create(1f / 16)));
    }

    /// <summary>exp of one float by the same steps as the vector paths.</summary>
    public static float Exp(float x) => Exp<float, Simd1<float>>(x);

    /// <summary>
    /// y = exp(x) for float or double spans: every exp Loom evaluates goes through here. Float32 takes the kernel below
    /// (≈1 ulp at the full vector width); TensorPrimitives evaluates float32 exp in double, at half the width. Double
    /// takes TensorPrimitives.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exp<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) Exp(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y), VectorWidth.Auto);
        else TensorPrimitives.Exp(x, y);
    }

    /// <summary>y = exp(x) element-wise, float32.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Exp(ReadOnlySpan<float> x, Span<float> y, VectorWidth width = VectorWidth.Auto)
    {
        if (y.Length < x.Length) throw new ArgumentException($"exp: destination of {y.Length} elements is shorter than the input ({x.Length})");
        Simd.For<float, MapStep<float, ExpMap>>(new(x, y), x.Length, width);
    }

    private readonly struct ExpMap : ISimdMap<float>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float> => Exp<TV, TS>(x);
    }

    /// <summary>y = exp(x − shift); returns Σ y. <paramref name="y"/> may be empty to only sum.</summary>
    /// <param name="width">The register width (tests compare them); the sum's order depends on it, the values do not.</param>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedSum(ReadOnlySpan<float> x, float shift, Span<float> y, VectorWidth width = VectorWidth.Auto)
    {
        if (!y.IsEmpty && y.Length < x.Length) throw new ArgumentException($"exp: destination of {y.Length} elements is shorter than the input ({x.Length})");
        return Simd.Run<float, float, ShiftedSum>(new(x, shift, y), width);
    }

    private readonly ref struct ShiftedSum(ReadOnlySpan<float> x, float shift, Span<float> y) : ISimdKernel<float, float>
    {
        private readonly ReadOnlySpan<float> x = x;
        private readonly Span<float> y = y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Run<TV, TS>() where TV : struct where TS : ISimd<TV, float>
        {
            bool store = !y.IsEmpty;
            ref float xs = ref MemoryMarshal.GetReference(x);
            ref float ys = ref MemoryMarshal.GetReference(y);
            nuint i = 0, n = (nuint)x.Length, w = (nuint)TS.Count;
            var s = TS.Create(shift);
            // Two accumulators: the adds of one vector do not wait for the previous one's.
            TV acc0 = TS.Zero, acc1 = TS.Zero;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                var e0 = Exp<TV, TS>(TS.Subtract(TS.Load(in xs, i), s));
                var e1 = Exp<TV, TS>(TS.Subtract(TS.Load(in xs, i + w), s));
                if (store)
                {
                    TS.Store(e0, ref ys, i);
                    TS.Store(e1, ref ys, i + w);
                }
                acc0 = TS.Add(acc0, e0);
                acc1 = TS.Add(acc1, e1);
            }
            for (; i + w <= n; i += w)
            {
                var e = Exp<TV, TS>(TS.Subtract(TS.Load(in xs, i), s));
                if (store) TS.Store(e, ref ys, i);
                acc0 = TS.Add(acc0, e);
            }
            float sum = TS.Sum(TS.Add(acc0, acc1));
            for (; i < n; i++)
            {
                float e = Exp(Unsafe.Add(ref xs, i) - shift);
                if (store) Unsafe.Add(ref ys, i) = e;
                sum += e;
            }
            return sum;
        }
    }
}
