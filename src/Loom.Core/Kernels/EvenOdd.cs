using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>Splitting a row into its even and odd elements: the column phases of stride-2 convolutions and pooling.</summary>
internal static class EvenOdd
{
    /// <summary>
    /// even[i] = src[2i], odd[i] = src[2i + 1]; an empty <paramref name="even"/> or <paramref name="odd"/> drops those
    /// values. With AVX-512, two vectors at a time by two-source permutes (one vpermt2ps per 16 floats kept), else
    /// element by element.
    /// </summary>
    public static void Split<T>(ReadOnlySpan<T> src, Span<T> even, Span<T> odd) where T : unmanaged
    {
        int n = src.Length, i = 0;
        if (ForcedScalar != true && Avx512F.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            int lanes = Vector512<T>.Count;
            for (; i <= n - 2 * lanes; i += 2 * lanes)
            {
                var lo = Vector512.Create(src.Slice(i, lanes));
                var hi = Vector512.Create(src.Slice(i + lanes, lanes));
                if (!even.IsEmpty) Pick(lo, hi, 0).CopyTo(even.Slice(i / 2, lanes));
                if (!odd.IsEmpty) Pick(lo, hi, 1).CopyTo(odd.Slice(i / 2, lanes));
            }
        }
        for (; i < n; i++)
        {
            if (i % 2 == 0)
            {
                if (!even.IsEmpty) even[i / 2] = src[i];
            }
            else if (!odd.IsEmpty) odd[i / 2] = src[i];
        }
    }

    /// <summary>For tests: on the calling thread, true takes the scalar loop even where AVX-512 is available.</summary>
    internal static bool? ForcedScalar
    {
        get => _forcedScalar;
        set => _forcedScalar = value;
    }

    [ThreadStatic]
    private static bool? _forcedScalar;

    /// <summary>Elements <paramref name="parity"/>, parity + 2, … of the 2·Count values (lo, hi).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Pick<T>(Vector512<T> lo, Vector512<T> hi, int parity)
    {
        if (typeof(T) == typeof(float))
        {
            var indices = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) + Vector512.Create(parity);
            return Avx512F.PermuteVar16x32x2(lo.AsSingle(), indices, hi.AsSingle()).As<float, T>();
        }
        var longs = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14) + Vector512.Create((long)parity);
        return Avx512F.PermuteVar8x64x2(lo.AsDouble(), longs, hi.AsDouble()).As<double, T>();
    }
}
