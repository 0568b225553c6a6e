using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// The AVX-512 register tile: 12 rows × 2 Vector512 columns (12×32 float, 12×16 double).
/// </summary>
/// <remarks>
/// Why 12×32: Zen 4 retires one 512-bit FMA per cycle with a 4-cycle latency, so at least 4 independent chains are
/// needed, and each step of k must do enough FMAs to hide its loads. 12×2 = 24 accumulators + 2 B vectors + 1
/// broadcast = 27 of the 32 zmm registers; per step of k that is 24 FMAs against 2 vector loads and 12 broadcasts.
/// Measured against 6×32 and 8×32 tiles in docs/notes/gemm.md.
/// </remarks>
internal readonly unsafe struct GemmKernelAvx512<T> : IGemmMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 12;
    public static int NR => 2 * Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
    {
        Vector512<T> c0a = default, c0b = default;
        Vector512<T> c1a = default, c1b = default;
        Vector512<T> c2a = default, c2b = default;
        Vector512<T> c3a = default, c3b = default;
        Vector512<T> c4a = default, c4b = default;
        Vector512<T> c5a = default, c5b = default;
        Vector512<T> c6a = default, c6b = default;
        Vector512<T> c7a = default, c7b = default;
        Vector512<T> c8a = default, c8b = default;
        Vector512<T> c9a = default, c9b = default;
        Vector512<T> c10a = default, c10b = default;
        Vector512<T> c11a = default, c11b = default;
        nint w = Vector512<T>.Count;
        if (Sse.IsSupported)
        {
            // The tile's 24 lines of C are read (beta != 0) or written only after the k loop: ask for them now, so
            // that a C larger than L2 (a weight gradient summed over several depth blocks) does not stall each store.
            for (nint i = 0; i < 12; i++)
            {
                Sse.Prefetch0(c + i * ldc);
                Sse.Prefetch0(c + i * ldc + w);
            }
        }
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            Vector512<T> x;
            x = Vector512.Create(a[0]); c0a = GemmFma.Fma(x, b0, c0a); c0b = GemmFma.Fma(x, b1, c0b);
            x = Vector512.Create(a[1]); c1a = GemmFma.Fma(x, b0, c1a); c1b = GemmFma.Fma(x, b1, c1b);
            x = Vector512.Create(a[2]); c2a = GemmFma.Fma(x, b0, c2a); c2b = GemmFma.Fma(x, b1, c2b);
            x = Vector512.Create(a[3]); c3a = GemmFma.Fma(x, b0, c3a); c3b = GemmFma.Fma(x, b1, c3b);
            x = Vector512.Create(a[4]); c4a = GemmFma.Fma(x, b0, c4a); c4b = GemmFma.Fma(x, b1, c4b);
            x = Vector512.Create(a[5]); c5a = GemmFma.Fma(x, b0, c5a); c5b = GemmFma.Fma(x, b1, c5b);
            x = Vector512.Create(a[6]); c6a = GemmFma.Fma(x, b0, c6a); c6b = GemmFma.Fma(x, b1, c6b);
            x = Vector512.Create(a[7]); c7a = GemmFma.Fma(x, b0, c7a); c7b = GemmFma.Fma(x, b1, c7b);
            x = Vector512.Create(a[8]); c8a = GemmFma.Fma(x, b0, c8a); c8b = GemmFma.Fma(x, b1, c8b);
            x = Vector512.Create(a[9]); c9a = GemmFma.Fma(x, b0, c9a); c9b = GemmFma.Fma(x, b1, c9b);
            x = Vector512.Create(a[10]); c10a = GemmFma.Fma(x, b0, c10a); c10b = GemmFma.Fma(x, b1, c10b);
            x = Vector512.Create(a[11]); c11a = GemmFma.Fma(x, b0, c11a); c11b = GemmFma.Fma(x, b1, c11b);
            a += 12;
            b += 2 * w;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool betaZero = T.IsZero(beta);
        Store(c + 0 * ldc, c0a, c0b, va, vb, betaZero);
        Store(c + 1 * ldc, c1a, c1b, va, vb, betaZero);
        Store(c + 2 * ldc, c2a, c2b, va, vb, betaZero);
        Store(c + 3 * ldc, c3a, c3b, va, vb, betaZero);
        Store(c + 4 * ldc, c4a, c4b, va, vb, betaZero);
        Store(c + 5 * ldc, c5a, c5b, va, vb, betaZero);
        Store(c + 6 * ldc, c6a, c6b, va, vb, betaZero);
        Store(c + 7 * ldc, c7a, c7b, va, vb, betaZero);
        Store(c + 8 * ldc, c8a, c8b, va, vb, betaZero);
        Store(c + 9 * ldc, c9a, c9b, va, vb, betaZero);
        Store(c + 10 * ldc, c10a, c10b, va, vb, betaZero);
        Store(c + 11 * ldc, c11a, c11b, va, vb, betaZero);
    }

    public static bool HasFourRowTile => true;

    /// <summary>The first four rows of the tile (the panel's last rows, its other rows padding): 8 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunFourRows(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
    {
        Vector512<T> c0a = default, c0b = default;
        Vector512<T> c1a = default, c1b = default;
        Vector512<T> c2a = default, c2b = default;
        Vector512<T> c3a = default, c3b = default;
        nint w = Vector512<T>.Count, mr = MR;
        if (Sse.IsSupported)
        {
            for (nint i = 0; i < 4; i++)
            {
                Sse.Prefetch0(c + i * ldc);
                Sse.Prefetch0(c + i * ldc + w);
            }
        }
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            Vector512<T> x;
            x = Vector512.Create(a[0]); c0a = GemmFma.Fma(x, b0, c0a); c0b = GemmFma.Fma(x, b1, c0b);
            x = Vector512.Create(a[1]); c1a = GemmFma.Fma(x, b0, c1a); c1b = GemmFma.Fma(x, b1, c1b);
            x = Vector512.Create(a[2]); c2a = GemmFma.Fma(x, b0, c2a); c2b = GemmFma.Fma(x, b1, c2b);
            x = Vector512.Create(a[3]); c3a = GemmFma.Fma(x, b0, c3a); c3b = GemmFma.Fma(x, b1, c3b);
            a += mr;
            b += 2 * w;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool betaZero = T.IsZero(beta);
        Store(c + 0 * ldc, c0a, c0b, va, vb, betaZero);
        Store(c + 1 * ldc, c1a, c1b, va, vb, betaZero);
        Store(c + 2 * ldc, c2a, c2b, va, vb, betaZero);
        Store(c + 3 * ldc, c3a, c3b, va, vb, betaZero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(T* c, Vector512<T> lo, Vector512<T> hi, Vector512<T> alpha, Vector512<T> beta, bool betaZero)
    {
        T* c1 = c + Vector512<T>.Count;
        if (betaZero)
        {
            Vector512.Store(lo * alpha, c);
            Vector512.Store(hi * alpha, c1);
        }
        else
        {
            Vector512.Store(GemmFma.Fma(beta, Vector512.Load(c), lo * alpha), c);
            Vector512.Store(GemmFma.Fma(beta, Vector512.Load(c1), hi * alpha), c1);
        }
    }
}
