using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels;

/// <summary>
/// A float32 exp fused with the shift and the sum that softmax, log-softmax and cross-entropy need:
/// y = exp(x − shift) and Σ y in one pass, instead of separate subtract, exp and sum passes over the row.
/// </summary>
/// <remarks>
/// exp(x) = 2ⁿ · exp(r) with n = round(x · log₂e) and r = x − n · ln 2 (Cody–Waite split of ln 2, so r is exact to
/// float precision), exp(r) by Cephes' degree-7 polynomial on [−ln 2/2, ln 2/2] (≈1 ulp), and 2ⁿ built in the
/// exponent bits. Below −87.34 the result is 0 (exp underflows the normal range there); above 88.376 it is +∞
/// (so the last 30% of the float range before float.MaxValue overflows early: softmax only feeds it x ≤ 0);
/// NaN stays NaN. The Vector512, Vector256 and scalar paths run the same operations, fused multiply-adds included,
/// so they give bit-identical exp values. TensorPrimitives.Exp is avoided for float32 because it evaluates in
/// double precision, which halves the vector width.
/// </remarks>
internal static class ExpKernels
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float Lowest = -87.33654f;
    private const float Highest = 88.37626f; // n = round(x·log₂e) ≤ 127 keeps 2ⁿ a finite float
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>The vector width the fast paths use here: 512, 256 or 0 (scalar).</summary>
    public static int BestWidth => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0;

    /// <summary>y = exp(x − shift); returns Σ y. <paramref name="y"/> may be empty to only sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedSum(ReadOnlySpan<float> x, float shift, Span<float> y) => ExpShiftedSum(x, shift, y, BestWidth);

    /// <summary>As <see cref="ExpShiftedSum(ReadOnlySpan{float}, float, Span{float})"/> on a chosen path (tests compare them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftedSum(ReadOnlySpan<float> x, float shift, Span<float> y, int width)
    {
        bool store = !y.IsEmpty;
        if (store && y.Length < x.Length) throw new ArgumentException($"exp: destination of {y.Length} elements is shorter than the input ({x.Length})");
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        int i = 0;
        float sum = 0;
        if (width == 512 && Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(shift);
            Vector512<float> acc0 = default, acc1 = default;
            for (; i <= x.Length - 32; i += 32)
            {
                var e0 = Exp(Vector512.LoadUnsafe(ref xs, (nuint)i) - s);
                var e1 = Exp(Vector512.LoadUnsafe(ref xs, (nuint)(i + 16)) - s);
                if (store)
                {
                    e0.StoreUnsafe(ref ys, (nuint)i);
                    e1.StoreUnsafe(ref ys, (nuint)(i + 16));
                }
                acc0 += e0;
                acc1 += e1;
            }
            for (; i <= x.Length - 16; i += 16)
            {
                var e = Exp(Vector512.LoadUnsafe(ref xs, (nuint)i) - s);
                if (store) e.StoreUnsafe(ref ys, (nuint)i);
                acc0 += e;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (width >= 256 && Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(shift);
            Vector256<float> acc0 = default, acc1 = default;
            for (; i <= x.Length - 16; i += 16)
            {
                var e0 = Exp(Vector256.LoadUnsafe(ref xs, (nuint)i) - s);
                var e1 = Exp(Vector256.LoadUnsafe(ref xs, (nuint)(i + 8)) - s);
                if (store)
                {
                    e0.StoreUnsafe(ref ys, (nuint)i);
                    e1.StoreUnsafe(ref ys, (nuint)(i + 8));
                }
                acc0 += e0;
                acc1 += e1;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < x.Length; i++)
        {
            float e = Exp(x[i] - shift);
            if (store) y[i] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>exp of one float by the same steps as the vector paths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        float n = MathF.Round(x * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float p = MathF.FusedMultiplyAdd(P0, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        p = MathF.FusedMultiplyAdd(p, r * r, r) + 1f;
        float scale = BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        float result = p * scale;
        if (x < Lowest) return 0f;
        if (x > Highest) return float.PositiveInfinity;
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x)
    {
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        var result = p * scale;
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(Lowest)), Vector512<float>.Zero, result);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Highest)), Vector512.Create(float.PositiveInfinity), result);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        var result = p * scale;
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Lowest)), Vector256<float>.Zero, result);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Highest)), Vector256.Create(float.PositiveInfinity), result);
    }
}
