namespace Loom.Kernels;

/// <summary>
/// The AVX2 register tile: 6 rows × 2 Vector256 columns (6×16 float, 6×8 double), for CPUs without AVX-512.
/// </summary>
/// <remarks>
/// With 16 ymm registers: 12 accumulators + 2 B vectors + 1 broadcast = 15, the classic Haswell shape.
/// </remarks>
internal readonly unsafe struct GemmKernelAvx2<T> : IGemmMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
    {
        Vector256<T> c0a = default, c0b = default;
        Vector256<T> c1a = default, c1b = default;
        Vector256<T> c2a = default, c2b = default;
        Vector256<T> c3a = default, c3b = default;
        Vector256<T> c4a = default, c4b = default;
        Vector256<T> c5a = default, c5b = default;
        nint w = Vector256<T>.Count;
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            Vector256<T> x;
            x = Vector256.Create(a[0]); c0a = GemmFma.Fma(x, b0, c0a); c0b = GemmFma.Fma(x, b1, c0b);
            x = Vector256.Create(a[1]); c1a = GemmFma.Fma(x, b0, c1a); c1b = GemmFma.Fma(x, b1, c1b);
            x = Vector256.Create(a[2]); c2a = GemmFma.Fma(x, b0, c2a); c2b = GemmFma.Fma(x, b1, c2b);
            x = Vector256.Create(a[3]); c3a = GemmFma.Fma(x, b0, c3a); c3b = GemmFma.Fma(x, b1, c3b);
            x = Vector256.Create(a[4]); c4a = GemmFma.Fma(x, b0, c4a); c4b = GemmFma.Fma(x, b1, c4b);
            x = Vector256.Create(a[5]); c5a = GemmFma.Fma(x, b0, c5a); c5b = GemmFma.Fma(x, b1, c5b);
            a += 6;
            b += 2 * w;
        }
        var va = Vector256.Create(alpha);
        var vb = Vector256.Create(beta);
        bool betaZero = T.IsZero(beta);
        Store(c + 0 * ldc, c0a, c0b, va, vb, betaZero);
        Store(c + 1 * ldc, c1a, c1b, va, vb, betaZero);
        Store(c + 2 * ldc, c2a, c2b, va, vb, betaZero);
        Store(c + 3 * ldc, c3a, c3b, va, vb, betaZero);
        Store(c + 4 * ldc, c4a, c4b, va, vb, betaZero);
        Store(c + 5 * ldc, c5a, c5b, va, vb, betaZero);
    }

    public static bool HasFourRowTile => true;

    /// <summary>The first four rows of the tile (the panel's last rows, its other rows padding): 8 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunFourRows(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
    {
        Vector256<T> c0a = default, c0b = default;
        Vector256<T> c1a = default, c1b = default;
        Vector256<T> c2a = default, c2b = default;
        Vector256<T> c3a = default, c3b = default;
        nint w = Vector256<T>.Count, mr = MR;
        for (nint p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            Vector256<T> x;
            x = Vector256.Create(a[0]); c0a = GemmFma.Fma(x, b0, c0a); c0b = GemmFma.Fma(x, b1, c0b);
            x = Vector256.Create(a[1]); c1a = GemmFma.Fma(x, b0, c1a); c1b = GemmFma.Fma(x, b1, c1b);
            x = Vector256.Create(a[2]); c2a = GemmFma.Fma(x, b0, c2a); c2b = GemmFma.Fma(x, b1, c2b);
            x = Vector256.Create(a[3]); c3a = GemmFma.Fma(x, b0, c3a); c3b = GemmFma.Fma(x, b1, c3b);
            a += mr;
            b += 2 * w;
        }
        var va = Vector256.Create(alpha);
        var vb = Vector256.Create(beta);
        bool betaZero = T.IsZero(beta);
        Store(c + 0 * ldc, c0a, c0b, va, vb, betaZero);
        Store(c + 1 * ldc, c1a, c1b, va, vb, betaZero);
        Store(c + 2 * ldc, c2a, c2b, va, vb, betaZero);
        Store(c + 3 * ldc, c3a, c3b, va, vb, betaZero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(T* c, Vector256<T> lo, Vector256<T> hi, Vector256<T> alpha, Vector256<T> beta, bool betaZero)
    {
        T* c1 = c + Vector256<T>.Count;
        if (betaZero)
        {
            Vector256.Store(lo * alpha, c);
            Vector256.Store(hi * alpha, c1);
        }
        else
        {
            Vector256.Store(GemmFma.Fma(beta, Vector256.Load(c), lo * alpha), c);
            Vector256.Store(GemmFma.Fma(beta, Vector256.Load(c1), hi * alpha), c1);
        }
    }
}
