namespace Loom.Kernels;

/// <summary>
/// The portable register tile, 4×4 in plain scalar code: runs on any CPU and serves as the fallback path. The 16
/// accumulators are locals (not an array) so the JIT keeps them in registers. Multiply and add are separate (not
/// fused) here; results agree with the vector paths within float rounding.
/// </summary>
internal readonly unsafe struct GemmKernelScalar<T> : IGemmMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 4;
    public static int NR => 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
    {
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero;
        T c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero;
        T c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;
        for (nint p = 0; p < kc; p++, a += 4, b += 4)
        {
            T b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        bool betaZero = T.IsZero(beta);
        StoreRow(c, c00, c01, c02, c03, alpha, beta, betaZero);
        StoreRow(c + ldc, c10, c11, c12, c13, alpha, beta, betaZero);
        StoreRow(c + 2 * ldc, c20, c21, c22, c23, alpha, beta, betaZero);
        StoreRow(c + 3 * ldc, c30, c31, c32, c33, alpha, beta, betaZero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, T s0, T s1, T s2, T s3, T alpha, T beta, bool betaZero)
    {
        if (betaZero)
        {
            c[0] = alpha * s0; c[1] = alpha * s1; c[2] = alpha * s2; c[3] = alpha * s3;
        }
        else
        {
            c[0] = alpha * s0 + beta * c[0]; c[1] = alpha * s1 + beta * c[1];
            c[2] = alpha * s2 + beta * c[2]; c[3] = alpha * s3 + beta * c[3];
        }
    }
}
