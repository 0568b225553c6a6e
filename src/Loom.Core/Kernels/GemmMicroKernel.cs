namespace Loom.Kernels;

/// <summary>
/// A GEMM register tile: C[0..MR, 0..NR] = alpha · Ap · Bp + beta · C, where Ap is an MR×kc panel of A packed
/// column by column (MR values per step of k) and Bp a kc×NR panel of B packed row by row (NR values per step).
/// With beta == 0, C is written without being read, so NaN or garbage in C does not leak into the result.
/// Implementations are structs so that the driver, generic over them, is specialised and the call inlined.
/// </summary>
internal unsafe interface IGemmMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows of the tile (values of A broadcast per step of k).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the tile (values of B loaded as vectors per step of k).</summary>
    static abstract int NR { get; }

    static abstract void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta);

    /// <summary>Whether <see cref="RunFourRows"/> exists: a tile of the panel's first four rows only.</summary>
    static virtual bool HasFourRowTile => false;

    /// <summary>
    /// C[0..4, 0..NR] = alpha · Ap[0..4] · Bp + beta · C, the other MR − 4 rows of the packed panel (zero padding) not
    /// touched: the last panel of 256 or 1024 rows holds 4 rows with MR = 12 (or 6), and the full tile would spend
    /// two thirds of its FMAs on the padding. Each element is the same FMA chain as in <see cref="Run"/>.
    /// </summary>
    static virtual void RunFourRows(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) =>
        throw new NotSupportedException("gemm: this micro-kernel has no four-row tile");
}

/// <summary>Fused multiply-add on generic vectors; the type tests are constants to the JIT, so each compiles to one instruction.</summary>
internal static class GemmFma
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"gemm: no vector FMA for {typeof(T).Name}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"gemm: no vector FMA for {typeof(T).Name}");
    }
}
