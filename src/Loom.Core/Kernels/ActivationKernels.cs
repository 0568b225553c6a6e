namespace Loom.Kernels;

/// <summary>An activation y = f(x): one formula for every float width, and a double form for Float64.</summary>
internal interface IActivation
{
    TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float>;
    double Invoke(double x);

    /// <summary>
    /// Whether outputs above <see cref="ActivationKernels.StreamingThreshold"/> are written with non-temporal stores.
    /// Not for the activations of ~30 vector operations an element (exact and tanh GELU, erf, SiLU): with their
    /// stores going through the cache they measured 1.2–1.7× faster at one and two threads (docs/notes/jit.md).
    /// </summary>
    static virtual bool StreamsLargeOutputs => true;
}

/// <summary>A fused backward dx = f(gradOutput, saved), where saved is the op's input or output.</summary>
internal interface IActivationBackward
{
    TV Invoke<TV, TOps>(TV grad, TV saved) where TV : struct where TOps : ISimd<TV, float>;
    double Invoke(double grad, double saved);
}

/// <summary>
/// Activation forward and fused backward kernels over spans. Float runs vectorised (Vector512, Vector256 or scalar,
/// the same formula in each); double runs a scalar loop (Float64 is for gradient checks, not speed).
/// </summary>
internal static class ActivationKernels
{
    /// <summary>destination[i] = op(x[i]). <paramref name="x"/> and <paramref name="destination"/> may be the same span.</summary>
    /// <param name="streaming">Store with non-temporal writes (null: when the span is larger than <see cref="StreamingThreshold"/> and the activation <see cref="IActivation.StreamsLargeOutputs"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply<TOp>(ReadOnlySpan<float> x, Span<float> destination, TOp op, VectorWidth width = VectorWidth.Auto, bool? streaming = null) where TOp : struct, IActivation
    {
        if (destination.Length < x.Length) throw new ArgumentException($"destination of {destination.Length} elements is shorter than the input's {x.Length}");
        switch (Simd.Resolve(width))
        {
            case VectorWidth.W512 when streaming ?? (TOp.StreamsLargeOutputs && x.Length >= StreamingThreshold): LoopStreaming(x, destination, op); break;
            case VectorWidth.W512: Loop<Vector512<float>, Simd512<float>, TOp>(x, destination, op); break;
            case VectorWidth.W256: Loop<Vector256<float>, Simd256<float>, TOp>(x, destination, op); break;
            default: Loop<float, Simd1<float>, TOp>(x, destination, op); break;
        }
    }

    public static void Apply<TOp>(ReadOnlySpan<double> x, Span<double> destination, TOp op) where TOp : struct, IActivation
    {
        if (destination.Length < x.Length) throw new ArgumentException($"destination of {destination.Length} elements is shorter than the input's {x.Length}");
        for (int i = 0; i < x.Length; i++) destination[i] = op.Invoke(x[i]);
    }

    /// <summary>destination[i] = op(grad[i], saved[i]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply<TOp>(ReadOnlySpan<float> grad, ReadOnlySpan<float> saved, Span<float> destination, TOp op, VectorWidth width = VectorWidth.Auto) where TOp : struct, IActivationBackward
    {
        if (grad.Length != saved.Length || destination.Length < grad.Length)
            throw new ArgumentException($"span lengths differ: gradient {grad.Length}, saved {saved.Length}, destination {destination.Length}");
        switch (Simd.Resolve(width))
        {
            case VectorWidth.W512: Loop<Vector512<float>, Simd512<float>, TOp>(grad, saved, destination, op); break;
            case VectorWidth.W256: Loop<Vector256<float>, Simd256<float>, TOp>(grad, saved, destination, op); break;
            default: Loop<float, Simd1<float>, TOp>(grad, saved, destination, op); break;
        }
    }

    public static void Apply<TOp>(ReadOnlySpan<double> grad, ReadOnlySpan<double> saved, Span<double> destination, TOp op) where TOp : struct, IActivationBackward
    {
        if (grad.Length != saved.Length || destination.Length < grad.Length)
            throw new ArgumentException($"span lengths differ: gradient {grad.Length}, saved {saved.Length}, destination {destination.Length}");
        for (int i = 0; i < grad.Length; i++) destination[i] = op.Invoke(grad[i], saved[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop<TV, TOps, TOp>(ReadOnlySpan<float> x, Span<float> d, TOp op)
        where TV : struct where TOps : ISimd<TV, float> where TOp : struct, IActivation
    {
        int n = x.Length, w = TOps.Count, i = 0;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(d);
        for (; i <= n - w; i += w)
            TOps.Store(op.Invoke<TV, TOps>(TOps.Load(in xr, (nuint)i)), ref dr, (nuint)i);
        if (i == n) return;
        // The tail goes through a full-width buffer so that every element takes the same path: a value's result
        // does not depend on where in the tensor it sits.
        Span<float> buffer = stackalloc float[16];
        buffer.Clear();
        x[i..].CopyTo(buffer);
        TOps.Store(op.Invoke<TV, TOps>(TOps.Load(in buffer[0], 0)), ref buffer[0], 0);
        buffer[..(n - i)].CopyTo(d[i..]);
    }

    /// <summary>
    /// Elements (8 MB of floats, four times L2) above which results are written with non-temporal stores: a result
    /// that large leaves the cache before anyone reads it, and streaming it saves the read-for-ownership of every
    /// destination line (a third of the traffic of a unary op). Only for the activations whose
    /// <see cref="IActivation.StreamsLargeOutputs"/> says so.
    /// </summary>
    internal const int StreamingThreshold = 1 << 21;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void LoopStreaming<TOp>(ReadOnlySpan<float> x, Span<float> d, TOp op) where TOp : struct, IActivation
    {
        int n = x.Length;
        fixed (float* dp = d)
        {
            // Non-temporal stores need 64-byte alignment: the head up to the first boundary goes the ordinary way.
            int head = Math.Min(n, (int)((64 - ((nuint)dp & 63)) & 63) / sizeof(float));
            Loop<Vector512<float>, Simd512<float>, TOp>(x[..head], d[..head], op);
            ref float xr = ref MemoryMarshal.GetReference(x);
            int i = head;
            // Two vectors per iteration: two independent chains per iteration measured 2–3 % faster for exact GELU
            // when it still streamed (docs/notes/jit.md).
            for (; i <= n - 32; i += 32)
            {
                var a = op.Invoke<Vector512<float>, Simd512<float>>(Vector512.LoadUnsafe(ref Unsafe.Add(ref xr, i)));
                var b = op.Invoke<Vector512<float>, Simd512<float>>(Vector512.LoadUnsafe(ref Unsafe.Add(ref xr, i + 16)));
                a.StoreAlignedNonTemporal(dp + i);
                b.StoreAlignedNonTemporal(dp + i + 16);
            }
            for (; i <= n - 16; i += 16)
                op.Invoke<Vector512<float>, Simd512<float>>(Vector512.LoadUnsafe(ref Unsafe.Add(ref xr, i))).StoreAlignedNonTemporal(dp + i);
            Loop<Vector512<float>, Simd512<float>, TOp>(x[i..], d[i..n], op);
            // Streaming stores are weakly ordered: fence before another thread may read the result.
            System.Runtime.Intrinsics.X86.Sse.StoreFence();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop<TV, TOps, TOp>(ReadOnlySpan<float> g, ReadOnlySpan<float> s, Span<float> d, TOp op)
        where TV : struct where TOps : ISimd<TV, float> where TOp : struct, IActivationBackward
    {
        int n = g.Length, w = TOps.Count, i = 0;
        ref float gr = ref MemoryMarshal.GetReference(g);
        ref float sr = ref MemoryMarshal.GetReference(s);
        ref float dr = ref MemoryMarshal.GetReference(d);
        for (; i <= n - w; i += w)
            TOps.Store(op.Invoke<TV, TOps>(TOps.Load(in gr, (nuint)i), TOps.Load(in sr, (nuint)i)), ref dr, (nuint)i);
        if (i == n) return;
        Span<float> gb = stackalloc float[16];
        Span<float> sb = stackalloc float[16];
        gb.Clear();
        sb.Clear();
        g[i..].CopyTo(gb);
        s[i..].CopyTo(sb);
        TOps.Store(op.Invoke<TV, TOps>(TOps.Load(in gb[0], 0), TOps.Load(in sb[0], 0)), ref gb[0], 0);
        gb[..(n - i)].CopyTo(d[i..]);
    }

    // ------------------------------------------------------------------ erf and the normal CDF (float)
    //
    // erf(t), t = |x| ≥ 0, in two pieces:
    //   t < 0.875:  erf(t) = t + t·P(t²), P of degree 5;
    //   t ≥ 0.875:  erfc(t) = exp(−t²) · u·R(u), u = 1/(1 + 0.6·t), R of degree 8 (u·R(u) is erfc(t)·exp(t²), smooth
    //               and ≈ 1/(t√π) for large t, so one fit covers t up to infinity with small relative error).
    // Coefficients: weighted least squares in double, iterated towards minimax (Lawson), then rounded to float;
    // P on t ∈ [0, 0.875] for absolute error of erf(t)/t, R on u ∈ (0, 1/(1 + 0.6·0.875)] for relative error.
    // Measured in float against a 30-digit erf: ≤ 1.3 ulp for erf, erfc relative error ≤ 3e-7 for t ≤ 4 (then
    // growing only as erfc enters the subnormal range). exp(−t²) uses t² = s + e split exactly with an FMA, since
    // rounding t² alone would cost t²·2⁻²⁴ relative error in the tail.

    private const float P0 = 0.12837915122509003f, P1 = -0.3761255741119385f, P2 = 0.11282525211572647f,
        P3 = -0.02679397538304329f, P4 = 0.005035898182541132f, P5 = -0.0006222545634955168f;

    private const float R0 = 0.3385137617588043f, R1 = 0.3385150730609894f, R2 = 0.2775079607963562f,
        R3 = 0.15719957649707794f, R4 = -0.008921060711145401f, R5 = -0.0249586571007967f,
        R6 = -0.3694855272769928f, R7 = 0.4486587643623352f, R8 = -0.1581229567527771f;

    private const float SmallLimit = 0.875f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>erf(t) for t &lt; 0.875 (t ≥ 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ErfSmall<TV, TOps>(TV t) where TV : struct where TOps : ISimd<TV, float>
    {
        return TOps.MultiplyAdd(t, SimdMath.Polynomial<TV, TOps>(TOps.Multiply(t, t), P0, P1, P2, P3, P4, P5), t);
    }

    /// <summary>erfc(t) for t ≥ 0.875 (used for any t ≥ 0; meaningless below the limit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ErfcLarge<TV, TOps>(TV t) where TV : struct where TOps : ISimd<TV, float>
    {
        // From 11 on exp(−t²) underflows to exactly 0 in float; clamping keeps ∞ from turning t² − t² into NaN.
        t = TOps.Clamp(t, TOps.Zero, TOps.Create(11f));
        var one = TOps.Create(1f);
        var u = TOps.Divide(one, TOps.MultiplyAdd(TOps.Create(0.6f), t, one));
        var r = SimdMath.Polynomial<TV, TOps>(u, R0, R1, R2, R3, R4, R5, R6, R7, R8);
        var minusT = TOps.Negate(t);
        var s = TOps.Multiply(minusT, t);
        var e = TOps.MultiplyAdd(minusT, t, TOps.Negate(s)); // −t² − s, exactly
        return TOps.Multiply(ExpKernels.Exp<TV, TOps>(s, e), TOps.Multiply(u, r));
    }

    /// <summary>erf(x), float, any sign; NaN gives NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Erf<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float>
    {
        var t = TOps.Abs(x);
        var small = TOps.LessThan(t, TOps.Create(SmallLimit));
        var r = TOps.Select(small, ErfSmall<TV, TOps>(t), TOps.Subtract(TOps.Create(1f), ErfcLarge<TV, TOps>(t)));
        return TOps.Select(TOps.LessThan(x, TOps.Create(0f)), TOps.Subtract(TOps.Create(0f), r), r);
    }

    // Φ(−z) for z = |x| ≥ 0, the lower tail of the normal distribution, for GELU. It is computed in z itself, not in
    // t = z/√2 as erfc would be: t would be rounded, and exp(−t²) turns that rounding into 2t²·2⁻²⁴ of relative
    // error (10⁻⁵ at z = 12).
    //   Φ(−z) = exp(−z²/2) · G(z),  G(z) = ½·erfcx(z/√2),  G by a polynomial of degree 5 in z − c per interval.
    // G is smooth, ½ at 0 and ≈ 1/(z√(2π)) for large z. Its 16 intervals are the quarters of the octaves of y = z + 1
    // (z from 0 to 1 by 0.25, to 3 by 0.5, to 7 by 1, to 15 by 2: finer where G bends most), so the interval's index
    // is a bit field of the float y, bits 21–24 (the low two bits of the exponent, the top two of the mantissa), and
    // the centre c and the six coefficients are each one Lookup16 (vpermps) of that index. The table is fitted for
    // relative error against a 30-digit erfc, each centre placed where G(c) rounds to float well and the coefficients
    // rounded one at a time with the higher ones refitted (tools/fit_gelu_tail.py): 8.5·10⁻⁸ in all, and gelu within
    // 3.3 ulp. It replaced one fit in u = 1/(1 + 0.35z) of degree 8 (3.2·10⁻⁸, but a vdivps and ten multiply-adds,
    // 3.8 ulp); on Zen 5 a vpermps costs about what an FMA does, the division four or five of them, so this form is
    // ~7 % fewer cycles (docs/notes/jit.md). Degree 6 (5.6·10⁻⁹, 2.6 ulp) bought accuracy with one more of each and
    // no speed. exp(−z²/2) is ExpKernels.ExpMinusHalfSquare (a table exp that takes z² exactly). The exp and the fit
    // serve both signs, and the backward pass reuses exp(−z²/2) for the density φ.

    private const float GeluTailEnd = 14.5f;

    /// <summary>
    /// G's centres and coefficients, 16 floats per row in the order of the index bits of z + 1 (y in [2, 4), [4, 8),
    /// [8, 16), then [1, 2)): the centres, then the coefficients of t⁰ to t⁵, t = z − centre.
    /// </summary>
    private static ReadOnlySpan<float> GeluTail =>
    [
        // centre
        1.2373047f, 1.7568359f, 2.2421875f, 2.7451172f, 3.5117188f, 4.4785156f, 5.515625f, 6.4765625f,
        7.96875f, 10.019531f, 12.050781f, 13.796875f, 0.12054443f, 0.3737793f, 0.6213379f, 0.8691406f,
        // t^0
        2.321705520e-01f, 1.847216934e-01f, 1.540687978e-01f, 1.309176236e-01f, 1.060327441e-01f, 8.517723531e-02f, 7.015478611e-02f, 6.022357568e-02f,
        4.930955917e-02f, 3.943114728e-02f, 3.288168833e-02f, 2.876583859e-02f, 4.553220868e-01f, 3.799178600e-01f, 3.240783811e-01f, 2.806762457e-01f,
        // t^1
        -1.116765365e-01f, -7.441657782e-02f, -5.349114537e-02f, -3.955806419e-02f, -2.658513375e-02f, -1.747469604e-02f, -1.199478749e-02f, -8.900528774e-03f,
        -6.006756332e-03f, -3.860668512e-03f, -2.692247741e-03f, -2.063601278e-03f, -3.440557420e-01f, -2.569368482e-01f, -1.975800991e-01f, -1.549951583e-01f,
        // t^2
        4.699533433e-02f, 2.699162439e-02f, 1.706564985e-02f, 1.116290316e-02f, 6.336117163e-03f, 3.458157880e-03f, 1.997995423e-03f, 1.289357198e-03f,
        7.215181831e-04f, 3.745191498e-04f, 2.189980296e-04f, 1.472948934e-04f, 2.069233209e-01f, 1.419396847e-01f, 1.006569266e-01f, 7.298167795e-02f,
        // t^3
        -1.784535125e-02f, -8.998016827e-03f, -5.075696390e-03f, -2.971243579e-03f, -1.444036723e-03f, -6.623822264e-04f, -3.247848072e-04f, -1.832912531e-04f,
        -8.554666420e-05f, -3.600527998e-05f, -1.769858500e-05f, -1.046091529e-05f, -1.063718274e-01f, -6.796135008e-02f, -4.501365870e-02f, -3.052073345e-02f,
        // t^4
        6.281962153e-03f, 2.815219574e-03f, 1.429648604e-03f, 7.565313135e-04f, 3.214264289e-04f, 1.243871084e-04f, 5.201496606e-05f, 2.575357757e-05f,
        1.020396849e-05f, 3.474692448e-06f, 1.434195610e-06f, 7.422171961e-07f, 4.868477955e-02f, 2.922294848e-02f, 1.822337136e-02f, 1.164230984e-02f,
        // t^5
        -1.990903867e-03f, -8.320342167e-04f, -3.750578326e-04f, -1.846847445e-04f, -6.834584201e-05f, -2.194740955e-05f, -8.208447980e-06f, -3.471586524e-06f,
        -1.152973709e-06f, -3.320245128e-07f, -1.172013455e-07f, -5.338615594e-08f, -2.000513673e-02f, -1.140298694e-02f, -6.695421413e-03f, -4.089576192e-03f,
    ];

    /// <summary>
    /// G(z) for z in [0, 14.5] (NaN stays NaN), and <paramref name="gauss"/> = exp(−z²/2): Φ(−z) is their product.
    /// Callers bound |x| by 14.5, beyond which exp(−z²/2) is 0 in float; that also keeps ∞ out of the exp's reduction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LowerTail<TV, TOps>(TV z, out TV gauss) where TV : struct where TOps : ISimd<TV, float>
    {
        // y = z + 1 is rounded, which only moves z across an edge to the next interval's polynomial (fitted a little
        // beyond its edges); t itself is taken from z, exactly where c is within a factor 2 of z.
        var index = TOps.ShiftRightLogical(TOps.Add(z, TOps.One), 21);
        var t = TOps.Subtract(z, TailRow<TV, TOps>(0, index));
        var g = TOps.MultiplyAdd(TailRow<TV, TOps>(6, index), t, TailRow<TV, TOps>(5, index));
        g = TOps.MultiplyAdd(g, t, TailRow<TV, TOps>(4, index));
        g = TOps.MultiplyAdd(g, t, TailRow<TV, TOps>(3, index));
        g = TOps.MultiplyAdd(g, t, TailRow<TV, TOps>(2, index));
        g = TOps.MultiplyAdd(g, t, TailRow<TV, TOps>(1, index));
        gauss = ExpKernels.ExpMinusHalfSquare<TV, TOps>(z);
        return g;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV TailRow<TV, TOps>(int row, TV index) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Lookup16(in Unsafe.Add(ref MemoryMarshal.GetReference(GeluTail), 16 * row), index);

    // ------------------------------------------------------------------ double special functions

    /// <summary>erf(x) in double, relative error ~1e-15: a positive-term series for |x| ≤ 2.5, else 1 − erfc.</summary>
    public static double Erf(double x)
    {
        double t = Math.Abs(x);
        if (double.IsNaN(x)) return x;
        // The series' rounding grows with t (8 ulp at 2.5); from 1.5 on, 1 − erfc loses nothing (erfc ≤ 0.034).
        double r = t <= 1.5 ? ErfSeries(t) : 1 - ErfcContinuedFraction(t);
        return x < 0 ? -r : r;
    }

    /// <summary>erfc(x) = 1 − erf(x) in double, accurate in relative terms for large x.</summary>
    public static double Erfc(double x)
    {
        // 1 − erf(x) would lose log10(1/erfc) digits; the continued fraction converges in < 200 steps from x = 1.
        if (double.IsNaN(x)) return x;
        if (x > 1) return ErfcContinuedFraction(x);
        if (x < -1) return 2 - ErfcContinuedFraction(-x);
        return 1 - Erf(x);
    }

    // erf(t) = 2/√π · exp(−t²) · Σ (2t²)ⁿ·t / (1·3·5···(2n+1)): every term positive, so no cancellation.
    private static double ErfSeries(double t)
    {
        double t2 = 2 * t * t, term = t, sum = t;
        for (int n = 1; n < 200 && term > 1e-17 * sum; n++)
        {
            term *= t2 / (2 * n + 1);
            sum += term;
        }
        return 1.1283791670955126 * ExpMinusSquare(t) * sum;
    }

    // exp(−t²) with t² split exactly into hi + lo (FMA): exp(−hi)·(1 − lo). The rounding of t² alone would cost t²·ε
    // relative, up to several ulp where t² is large.
    private static double ExpMinusSquare(double t)
    {
        double hi = t * t;
        if (hi > 746) return 0; // exp underflows; lo would be ∞ − ∞ for t² = ∞
        double lo = Math.FusedMultiplyAdd(t, t, -hi);
        return Math.Exp(-hi) * (1 - lo);
    }

    // erfc(t) = exp(−t²)/√π · 1/(t + (1/2)/(t + 1/(t + (3/2)/(t + …)))), evaluated by the modified Lentz method.
    private static double ErfcContinuedFraction(double t)
    {
        if (double.IsPositiveInfinity(t)) return 0;
        const double tiny = 1e-300;
        double f = t, c = t, d = 0;
        for (int n = 1; n < 5000; n++)
        {
            double a = n * 0.5;
            d = t + a * d;
            d = Math.Abs(d) < tiny ? 1 / tiny : 1 / d;
            c = t + a / c;
            if (Math.Abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return ExpMinusSquare(t) / (f * 1.7724538509055160);
    }

    /// <summary>Φ(x) = ½·erfc(−x/√2) in double.</summary>
    /// <remarks>
    /// For x ≪ 0, erfc(z) is about exp(−z²), so it amplifies the rounding of z = −x/√2 by 2z² (about 90 ulp at x = −10).
    /// So zl, the part of −x/√2 that z lost (exactly, by FMA, plus the rounding of 1/√2), enters at first order:
    /// erfc(z + zl) ≈ erfc(z) − zl·(2/√π)·exp(−z²).
    /// </remarks>
    public static double NormalCdf(double x)
    {
        const double c = 0.7071067811865476, cLo = -4.833646656726457e-17; // 1/√2 = c + cLo
        double z = -x * c;
        if (!double.IsFinite(z)) return 0.5 * Erfc(z);
        double zl = Math.FusedMultiplyAdd(-x, c, -z) - x * cLo;
        return 0.5 * (Erfc(z) - zl * 1.1283791670955126 * ExpMinusSquare(z));
    }

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    // ------------------------------------------------------------------ activations

    // Relu: ReLU's forward is TensorPrimitives.Max(x, 0); only its backward needs a kernel.
    // Its gradient is PyTorch's threshold_backward, y ≤ 0 ? 0 : dy: 0 at exactly 0, and dy passes at NaN (a test
    // y > 0 would stop it). The trap: writing relu as maximum(x, 0) and differentiating that gives ½ at 0 (maximum
    // splits ties), which is wrong for ReLU. The vector form tests y < ε (the smallest float32 denormal): for a relu
    // output, which is never negative, that is y = 0 exactly.
    public readonly struct ReluBackward : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV y) where TV : struct where TOps : ISimd<TV, float> =>
            TOps.Select(TOps.LessThan(y, TOps.Create(float.Epsilon)), TOps.Create(0f), g);

        public double Invoke(double g, double y) => y <= 0 ? 0 : g;
    }

    public readonly struct LeakyRelu(double slope) : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float> =>
            TOps.Select(TOps.GreaterThan(x, TOps.Create(0f)), x, TOps.Multiply(x, TOps.Create((float)slope)));

        public double Invoke(double x) => x > 0 ? x : x * slope;
    }

    public readonly struct LeakyReluBackward(double slope) : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV x) where TV : struct where TOps : ISimd<TV, float> =>
            TOps.Select(TOps.GreaterThan(x, TOps.Create(0f)), g, TOps.Multiply(g, TOps.Create((float)slope)));

        public double Invoke(double g, double x) => x > 0 ? g : g * slope;
    }

    public readonly struct SigmoidBackward : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV y) where TV : struct where TOps : ISimd<TV, float> =>
            TOps.Multiply(TOps.Multiply(g, y), TOps.Subtract(TOps.Create(1f), y));

        public double Invoke(double g, double y) => g * y * (1 - y);
    }

    public readonly struct TanhBackward : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV y) where TV : struct where TOps : ISimd<TV, float> =>
            TOps.Multiply(g, TOps.MultiplyAdd(TOps.Subtract(TOps.Create(0f), y), y, TOps.Create(1f)));

        public double Invoke(double g, double y) => g * (1 - y * y);
    }

    /// <summary>x·σ(x), computed as x / (1 + exp(−x)).</summary>
    public readonly struct Silu : IActivation
    {
        public static bool StreamsLargeOutputs => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float> =>
            TOps.Divide(x, TOps.Add(TOps.Create(1f), ExpKernels.ExpByTable<TV, TOps>(TOps.Subtract(TOps.Create(0f), x))));

        public double Invoke(double x) => x * Sigmoid(x);
    }

    /// <summary>d silu = σ(x)·(1 + x·(1 − σ(x))).</summary>
    public readonly struct SiluBackward : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV x) where TV : struct where TOps : ISimd<TV, float>
        {
            var one = TOps.Create(1f);
            var s = TOps.Divide(one, TOps.Add(one, ExpKernels.ExpByTable<TV, TOps>(TOps.Subtract(TOps.Create(0f), x))));
            return TOps.Multiply(TOps.Multiply(g, s), TOps.MultiplyAdd(x, TOps.Subtract(one, s), one));
        }

        public double Invoke(double g, double x)
        {
            double s = Sigmoid(x);
            return g * s * (1 + x * (1 - s));
        }
    }

    /// <summary>gelu(x) = x·Φ(x), the exact (erf) form.</summary>
    public readonly struct Gelu : IActivation
    {
        public static bool StreamsLargeOutputs => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float>
        {
            // Both signs at once: x·Φ(x) = max(x, 0) − |x|·Φ(−|x|), with |x|·Φ(−|x|) as (|x|·G)·exp(−x²/2) (near
            // x = −13 the product Φ alone would already be subnormal), and the subtraction fused into the last FMA.
            // w = |min(x, 14.5)|: on the negative side the unbounded |x| times exp(−x²/2) = 0 past the tail's end
            // gives 0, and NaN at −∞ (∞·0, as PyTorch's x·Φ(x)); on the positive side the bounded one keeps
            // x − 0 = x, also at +∞. NaN passes through every step.
            var tailEnd = TOps.Create(GeluTailEnd);
            var w = TOps.Abs(TOps.AtMost(x, tailEnd));
            var g = LowerTail<TV, TOps>(TOps.AtMost(w, tailEnd), out var gauss);
            return TOps.MultiplyAdd(TOps.Negate(TOps.Multiply(w, g)), gauss, TOps.AtLeast(x, TOps.Zero));
        }

        public double Invoke(double x) => x * NormalCdf(x);
    }

    /// <summary>d gelu = Φ(x) + x·φ(x), φ(x) = exp(−x²/2)/√(2π).</summary>
    public readonly struct GeluBackward : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV x) where TV : struct where TOps : ISimd<TV, float>
        {
            var lower = TOps.Multiply(LowerTail<TV, TOps>(TOps.AtMost(TOps.Abs(x), TOps.Create(GeluTailEnd)), out var gauss), gauss);
            var cdf = TOps.Select(TOps.LessThan(x, TOps.Zero), lower, TOps.Subtract(TOps.One, lower));
            // x, not the clamped x, times the density: 0 beyond the tail's end, NaN at ±∞ (∞·0), as PyTorch.
            return TOps.Multiply(g, TOps.MultiplyAdd(x, TOps.Multiply(gauss, TOps.Create(InvSqrt2Pi)), cdf));
        }

        public double Invoke(double g, double x) => g * (NormalCdf(x) + x * Math.Exp(-0.5 * x * x) * 0.39894228040143268);
    }

    // The tanh approximation, ½x(1 + tanh(u)) with u = √(2/π)·(x + 0.044715x³), equals x·σ(2u): one exp, no tanh.
    private const float GeluK = 0.7978845608028654f, GeluC = 0.044715f;

    public readonly struct GeluTanh : IActivation
    {
        public static bool StreamsLargeOutputs => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float>
        {
            var x2 = TOps.Multiply(x, x);
            var minus2u = TOps.Multiply(TOps.Multiply(x, TOps.Create(-2f * GeluK)), TOps.MultiplyAdd(x2, TOps.Create(GeluC), TOps.Create(1f)));
            return TOps.Divide(x, TOps.Add(TOps.Create(1f), ExpKernels.ExpByTable<TV, TOps>(minus2u)));
        }

        // As x·σ(2u) too: ½x(1 + tanh u) cancels to −0 for x below −7.5. For u < 0, x·e/(1 + e) with e = exp(2u)
        // keeps its digits until the result itself underflows.
        public double Invoke(double x)
        {
            double u = 0.79788456080286536 * (x + 0.044715 * x * x * x);
            double e = Math.Exp(-2 * Math.Abs(u));
            return u >= 0 ? x / (1 + e) : x * e / (1 + e);
        }
    }

    /// <summary>With σ = σ(2u): d = σ + 2x·σ(1 − σ)·√(2/π)·(1 + 3·0.044715·x²).</summary>
    public readonly struct GeluTanhBackward : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV x) where TV : struct where TOps : ISimd<TV, float>
        {
            var one = TOps.Create(1f);
            var x2 = TOps.Multiply(x, x);
            var minus2u = TOps.Multiply(TOps.Multiply(x, TOps.Create(-2f * GeluK)), TOps.MultiplyAdd(x2, TOps.Create(GeluC), one));
            var s = TOps.Divide(one, TOps.Add(one, ExpKernels.ExpByTable<TV, TOps>(minus2u)));
            var du = TOps.Multiply(TOps.Create(2f * GeluK), TOps.MultiplyAdd(x2, TOps.Create(3f * GeluC), one));
            var d = TOps.MultiplyAdd(TOps.Multiply(TOps.Multiply(x, s), TOps.Subtract(one, s)), du, s);
            return TOps.Multiply(g, d);
        }

        public double Invoke(double g, double x)
        {
            const double k = 0.79788456080286536, c = 0.044715;
            double t = Math.Tanh(k * (x + c * x * x * x));
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x));
        }
    }

    /// <summary>
    /// softplus(x) = log(1 + exp(βx))/β, or x where βx &gt; threshold (PyTorch's linear regime). Computed as
    /// (max(βx, 0) + log1p(exp(−|βx|)))/β so exp never overflows.
    /// </summary>
    public readonly struct Softplus(double beta, double threshold) : IActivation
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float>
        {
            var zero = TOps.Create(0f);
            var one = TOps.Create(1f);
            var z = TOps.Multiply(x, TOps.Create((float)beta));
            var v = ExpKernels.Exp<TV, TOps>(TOps.Subtract(zero, TOps.Abs(z)));
            // log1p(v) = log(w) − ((w − 1) − v)/w with w = 1 + v: corrects the rounding of w (Goldberg), and is
            // exactly v when w rounds to 1.
            var w = TOps.Add(one, v);
            var log1p = TOps.Subtract(TOps.Log(w), TOps.Divide(TOps.Subtract(TOps.Subtract(w, one), v), w));
            var r = TOps.Divide(TOps.Add(TOps.Max(z, zero), log1p), TOps.Create((float)beta));
            return TOps.Select(TOps.GreaterThan(z, TOps.Create((float)threshold)), x, r);
        }

        public double Invoke(double x)
        {
            double z = x * beta;
            if (z > threshold) return x;
            double v = Math.Exp(-Math.Abs(z)), w = 1 + v;
            return (Math.Max(z, 0) + Math.Log(w) - (w - 1 - v) / w) / beta;
        }
    }

    /// <summary>d softplus = σ(βx), or 1 in the linear regime.</summary>
    public readonly struct SoftplusBackward(double beta, double threshold) : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV x) where TV : struct where TOps : ISimd<TV, float>
        {
            var one = TOps.Create(1f);
            var z = TOps.Multiply(x, TOps.Create((float)beta));
            var s = TOps.Divide(one, TOps.Add(one, ExpKernels.Exp<TV, TOps>(TOps.Subtract(TOps.Create(0f), z))));
            return TOps.Select(TOps.GreaterThan(z, TOps.Create((float)threshold)), g, TOps.Multiply(g, s));
        }

        public double Invoke(double g, double x)
        {
            double z = x * beta;
            return z > threshold ? g : g * Sigmoid(z);
        }
    }

    public readonly struct ErfFunction : IActivation
    {
        public static bool StreamsLargeOutputs => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float> => Erf<TV, TOps>(x);

        public double Invoke(double x) => Erf(x);
    }

    /// <summary>d erf = 2/√π · exp(−x²).</summary>
    public readonly struct ErfBackward : IActivationBackward
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Invoke<TV, TOps>(TV g, TV x) where TV : struct where TOps : ISimd<TV, float> =>
            TOps.Multiply(g, TOps.Multiply(TOps.Create(1.1283791670955126f), ExpKernels.Exp<TV, TOps>(TOps.Subtract(TOps.Create(0f), TOps.Multiply(x, x)))));

        public double Invoke(double g, double x) => g * 1.1283791670955126 * Math.Exp(-x * x);
    }
}

/// <summary>Plugs an activation into the <see cref="BroadcastKernels.Unary{T, TOp}"/> driver (strided input, threads).</summary>
internal readonly struct ActivationOperator<TOp>(TOp op) : IUnaryOperator<float>, IUnaryOperator<double> where TOp : struct, IActivation
{
    public void Invoke(ReadOnlySpan<float> x, Span<float> d) => ActivationKernels.Apply(x, d, op);

    public void Invoke(ReadOnlySpan<double> x, Span<double> d) => ActivationKernels.Apply(x, d, op);
}
