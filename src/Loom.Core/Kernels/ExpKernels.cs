using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
        Simd.For<float, ExpStep>(new(x, y), x.Length, width);
    }

    private readonly ref struct ExpStep(ReadOnlySpan<float> x, Span<float> y) : ISimdStep<float>
    {
        private readonly ReadOnlySpan<float> x = x;
        private readonly Span<float> y = y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, float> =>
            TS.Store(Exp<TV, TS>(TS.Load(in MemoryMarshal.GetReference(x), i)), ref MemoryMarshal.GetReference(y), i);
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
