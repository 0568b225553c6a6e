namespace Loom.Kernels;

/// <summary>
/// The row passes of fused attention's in-place path (<see cref="AttentionTileGemm"/>: float, AVX-512): the running
/// max, the exponentials with their sum, dS = (dP − D) ⊙ P, a head row's Σ dO ⊙ O and scaling a row, each over
/// whole 16-lane vectors of one row of a tile.
/// </summary>
/// <remarks>
/// Why not TensorPrimitives and <see cref="ExpKernels.ExpShiftedSum"/>: a row holds 1–256 visible keys (the causal
/// triangle), so a call per row and operation cost a dispatch each and a scalar tail of up to 15 exponentials (~20
/// cycles apiece); a GPT 4L step made ~150,000 such calls. Here the last, partial vector is computed whole and its lanes
/// past the row's visible keys are selected away: reading them is safe because the score tile's rows are at least the
/// key count rounded up to 16 long (the products write whole vectors), and whatever they hold (later keys' scores,
/// stale scratch) never reaches a result. The exponentials are <see cref="ExpKernels.Exp{TV, TS}(TV)"/>, the values
/// the other paths compute; only the order of the row sums differs from them.
/// </remarks>
internal static unsafe class AttentionRows
{
    private const int Lanes = 16;

    /// <summary>All ones in the lanes below <paramref name="count"/> (0–16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LanesBelow(int count) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>max of row[0, seen); −∞ when seen is 0. NaN if one is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(float* row, int seen)
    {
        var negativeInfinity = Vector512.Create(float.NegativeInfinity);
        var acc = negativeInfinity;
        int v = 0;
        for (; v + Lanes <= seen; v += Lanes)
            acc = Vector512.Max(acc, Vector512.Load(row + v));
        if (v < seen)
            acc = Vector512.Max(acc, Vector512.ConditionalSelect(LanesBelow(seen - v), Vector512.Load(row + v), negativeInfinity));
        var half = Vector256.Max(acc.GetLower(), acc.GetUpper());
        var quarter = Vector128.Max(half.GetLower(), half.GetUpper());
        return MathF.Max(MathF.Max(quarter[0], quarter[1]), MathF.Max(quarter[2], quarter[3]));
    }

    /// <summary>
    /// row[0, seen) = exp(row − shift), row[seen, keys) = 0 (written up to keys rounded up to 16); returns the sum of
    /// the exponentials.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShifted(float* row, int seen, int keys, float shift)
    {
        var s = Vector512.Create(shift);
        Vector512<float> acc0 = default, acc1 = default;
        int v = 0;
        // Two accumulators: the adds of one vector do not wait for the previous one's.
        for (; v + 2 * Lanes <= seen; v += 2 * Lanes)
        {
            var e0 = ExpKernels.Exp<Vector512<float>, Simd512<float>>(Vector512.Load(row + v) - s);
            var e1 = ExpKernels.Exp<Vector512<float>, Simd512<float>>(Vector512.Load(row + v + Lanes) - s);
            Vector512.Store(e0, row + v);
            Vector512.Store(e1, row + v + Lanes);
            acc0 += e0;
            acc1 += e1;
        }
        for (; v < seen; v += Lanes)
        {
            var e = ExpKernels.Exp<Vector512<float>, Simd512<float>>(Vector512.Load(row + v) - s);
            if (seen - v < Lanes) e = Vector512.ConditionalSelect(LanesBelow(seen - v), e, Vector512<float>.Zero);
            Vector512.Store(e, row + v);
            acc0 += e;
        }
        for (; v < keys; v += Lanes)
            Vector512.Store(Vector512<float>.Zero, row + v);
        return Vector512.Sum(acc0 + acc1);
    }

    /// <summary>
    /// dS[0, seen) = (dS + (−delta)) ⊙ P (the roundings of dP − D, then the product), dS[seen, keys) = 0 (written up
    /// to keys rounded up to 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScoreGradient(float* gradScores, float* weights, int seen, int keys, float delta)
    {
        var minusDelta = Vector512.Create(-delta);
        int v = 0;
        for (; v < seen; v += Lanes)
        {
            var ds = (Vector512.Load(gradScores + v) + minusDelta) * Vector512.Load(weights + v);
            if (seen - v < Lanes) ds = Vector512.ConditionalSelect(LanesBelow(seen - v), ds, Vector512<float>.Zero);
            Vector512.Store(ds, gradScores + v);
        }
        for (; v < keys; v += Lanes)
            Vector512.Store(Vector512<float>.Zero, gradScores + v);
    }

    /// <summary>Σ x ⊙ y over <paramref name="length"/> values, a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* x, float* y, int length)
    {
        var acc = Vector512<float>.Zero;
        for (int v = 0; v < length; v += Lanes)
            acc = Avx512FusedMultiplyAdd(Vector512.Load(x + v), Vector512.Load(y + v), acc);
        return Vector512.Sum(acc);
    }

    /// <summary>x *= factor over <paramref name="length"/> values, a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(float* x, int length, float factor)
    {
        var f = Vector512.Create(factor);
        for (int v = 0; v < length; v += Lanes)
            Vector512.Store(Vector512.Load(x + v) * f, x + v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Avx512FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a, b, c);
}
