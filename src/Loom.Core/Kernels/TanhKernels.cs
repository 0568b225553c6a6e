using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
/// 1 ulp: a split at 0.625 gave 1.3 ulp, at 0.875 1.06 ulp). The sign of x is put back last, so tanh(−0) = −0. Both branches are computed for the whole vector and
/// blended, so the time does not depend on the data. The tail of a span runs through the same vector code on a
/// padded copy, so an element's result does not depend on where it sits. That is why all paths give identical bits.
/// float32 uses <see cref="ExpKernels"/>' exp. float64 uses its own exp below, on [−40, 0] only (tanh is 1 beyond 20).
/// </remarks>
internal static class TanhKernels
{
    private const float Split32 = 1f;
    private const double Split64 = 0.625;
    private const double Saturate64 = 20; // tanh(20) = 1 − 8.5e-18 rounds to 1

    // P(s) for float32: tanh x / x − 1 = s·P(s), s = x² ≤ 1.
    private const float F0 = -0.333333283662796f, F1 = 0.13333190977573395f, F2 = -0.05395236238837242f;
    private const float F3 = 0.02178184688091278f, F4 = -0.008589019067585468f, F5 = 0.003071458777412772f;
    private const float F6 = -0.0008367857662960887f, F7 = 0.00012039187276968732f;

    // The same for float64.
    private const double D0 = -0.3333333333333331, D1 = 0.1333333333332956, D2 = -0.05396825396597309;
    private const double D3 = 0.021869488466646964, D4 = -0.00886323428311881, D5 = 0.0035921137331605467;
    private const double D6 = -0.0014557243543466927, D7 = 0.0005894454319946284, D8 = -0.00023699489817603303;
    private const double D9 = 9.153014916229132e-05, D10 = -3.0159923691669275e-05, D11 = 6.030921439640456e-06;

    // exp in float64: Cody–Waite split of ln 2 (fdlibm's), then Taylor to degree 13 on |r| ≤ ln 2/2 (error 4e-18).
    private const double Log2E = 1.4426950408889634;
    private const double Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10;

    /// <summary>y = tanh x for float or double elements (<paramref name="y"/> may be <paramref name="x"/>).</summary>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        if (y.Length < x.Length) throw new ArgumentException($"tanh: destination of {y.Length} elements is shorter than the input ({x.Length})");
        if (typeof(T) == typeof(float)) Tanh(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double)) Tanh(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y));
        else throw new NotSupportedException($"tanh: element type {typeof(T).Name} is not supported (float32 or float64 only)");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16) Tanh(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            if (i < n)
            {
                Span<float> pad = stackalloc float[16];
                x[i..].CopyTo(pad);
                Tanh(Vector512.Create<float>(pad)).CopyTo(pad);
                pad[..(n - i)].CopyTo(y[i..]);
            }
        }
        else
        {
            for (; i <= n - 8; i += 8) Tanh(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            if (i < n)
            {
                Span<float> pad = stackalloc float[8];
                x[i..].CopyTo(pad);
                Tanh(Vector256.Create<float>(pad)).CopyTo(pad);
                pad[..(n - i)].CopyTo(y[i..]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(ReadOnlySpan<double> x, Span<double> y)
    {
        ref double xs = ref MemoryMarshal.GetReference(x);
        ref double ys = ref MemoryMarshal.GetReference(y);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8) Tanh(Vector512.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            if (i < n)
            {
                Span<double> pad = stackalloc double[8];
                x[i..].CopyTo(pad);
                Tanh(Vector512.Create<double>(pad)).CopyTo(pad);
                pad[..(n - i)].CopyTo(y[i..]);
            }
        }
        else
        {
            for (; i <= n - 4; i += 4) Tanh(Vector256.LoadUnsafe(ref xs, (nuint)i)).StoreUnsafe(ref ys, (nuint)i);
            if (i < n)
            {
                Span<double> pad = stackalloc double[4];
                x[i..].CopyTo(pad);
                Tanh(Vector256.Create<double>(pad)).CopyTo(pad);
                pad[..(n - i)].CopyTo(y[i..]);
            }
        }
    }

    /// <summary>tanh of one float, by the vector code (for callers that have one value).</summary>
    public static float Tanh(float x) => Tanh(Vector256.Create(x)).ToScalar();

    /// <summary>tanh of one double, by the vector code.</summary>
    public static double Tanh(double x) => Tanh(Vector256.Create(x)).ToScalar();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tanh(Vector512<float> x)
    {
        var a = Vector512.Abs(x);
        var s = x * x;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(F7), s, Vector512.Create(F6));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(F5));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(F4));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(F3));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(F2));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(F1));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(F0));
        var small = Vector512.FusedMultiplyAdd(a * s, p, a);
        // exp(−2|x|) is 0 below −87.3 (and for −∞), which gives tanh = ±1.
        var e = ExpKernels.Exp<Vector512<float>, Simd512<float>>(a * Vector512.Create(-2f));
        var large = Vector512<float>.One - (e + e) / (Vector512<float>.One + e);
        var t = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(Split32)), small, large);
        return (t.AsUInt32() | (x.AsUInt32() & Vector512.Create(0x8000_0000u))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh(Vector256<float> x)
    {
        var a = Vector256.Abs(x);
        var s = x * x;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(F7), s, Vector256.Create(F6));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(F5));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(F4));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(F3));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(F2));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(F1));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(F0));
        var small = Vector256.FusedMultiplyAdd(a * s, p, a);
        var e = ExpKernels.Exp<Vector256<float>, Simd256<float>>(a * Vector256.Create(-2f));
        var large = Vector256<float>.One - (e + e) / (Vector256<float>.One + e);
        var t = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(Split32)), small, large);
        return (t.AsUInt32() | (x.AsUInt32() & Vector256.Create(0x8000_0000u))).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Tanh(Vector512<double> x)
    {
        var a = Vector512.Abs(x);
        var s = x * x;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(D11), s, Vector512.Create(D10));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D9));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D8));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D7));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D6));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D5));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D4));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D3));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D2));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D1));
        p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(D0));
        var small = Vector512.FusedMultiplyAdd(a * s, p, a);
        // Saturated lanes get exp(−40) (a comparison, not Min, so that NaN stays NaN) and are set to 1 below.
        var saturated = Vector512.GreaterThan(a, Vector512.Create(Saturate64));
        var e = ExpNegative(Vector512.ConditionalSelect(saturated, Vector512.Create(-2 * Saturate64), a * Vector512.Create(-2.0)));
        var large = Vector512<double>.One - (e + e) / (Vector512<double>.One + e);
        large = Vector512.ConditionalSelect(saturated, Vector512<double>.One, large);
        var t = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(Split64)), small, large);
        return (t.AsUInt64() | (x.AsUInt64() & Vector512.Create(0x8000_0000_0000_0000ul))).AsDouble();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Tanh(Vector256<double> x)
    {
        var a = Vector256.Abs(x);
        var s = x * x;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(D11), s, Vector256.Create(D10));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D9));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D8));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D7));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D6));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D5));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D4));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D3));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D2));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D1));
        p = Vector256.FusedMultiplyAdd(p, s, Vector256.Create(D0));
        var small = Vector256.FusedMultiplyAdd(a * s, p, a);
        var saturated = Vector256.GreaterThan(a, Vector256.Create(Saturate64));
        var e = ExpNegative(Vector256.ConditionalSelect(saturated, Vector256.Create(-2 * Saturate64), a * Vector256.Create(-2.0)));
        var large = Vector256<double>.One - (e + e) / (Vector256<double>.One + e);
        large = Vector256.ConditionalSelect(saturated, Vector256<double>.One, large);
        var t = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(Split64)), small, large);
        return (t.AsUInt64() | (x.AsUInt64() & Vector256.Create(0x8000_0000_0000_0000ul))).AsDouble();
    }

    /// <summary>exp(y) for y in [−40, 0] (or NaN): no overflow, underflow or denormal handling needed there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> ExpNegative(Vector512<double> y)
    {
        var n = Vector512.Round(y * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), y);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.Create(1.0 / 6227020800);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 479001600));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 39916800));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 3628800));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 362880));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 40320));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 5040));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.0 / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<double>.One;
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt64(n) + Vector512.Create(1023L), 52).AsDouble();
        return p * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> ExpNegative(Vector256<double> y)
    {
        var n = Vector256.Round(y * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), y);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.Create(1.0 / 6227020800);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 479001600));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 39916800));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 3628800));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 362880));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 40320));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 5040));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 720));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 120));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 24));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.0 / 6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<double>.One;
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt64(n) + Vector256.Create(1023L), 52).AsDouble();
        return p * scale;
    }
}
