namespace Loom.Kernels;

/// <summary>
/// GEMM for ops written once over a generic element type: routes float to <see cref="Gemm.Sgemm"/> and double to
/// <see cref="Gemm.Dgemm"/>. C = op(A) · op(B), or C += op(A) · op(B) when <c>accumulate</c>; alpha is always 1 here.
/// </summary>
internal static class TypedGemm
{
    public static void Run<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, bool accumulate, Span<T> c, int ldc)
        where T : unmanaged
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            // An empty sum: BLAS would leave beta·C, but a fast kernel need not accept k = 0, so do it here.
            if (!accumulate)
                for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        if (typeof(T) == typeof(float))
        {
            Gemm.Sgemm(transA, transB, m, n, k, 1f, MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, accumulate ? 1f : 0f, MemoryMarshal.Cast<T, float>(c), ldc);
        }
        else if (typeof(T) == typeof(double))
        {
            Gemm.Dgemm(transA, transB, m, n, k, 1.0, MemoryMarshal.Cast<T, double>(a), lda,
                MemoryMarshal.Cast<T, double>(b), ldb, accumulate ? 1.0 : 0.0, MemoryMarshal.Cast<T, double>(c), ldc);
        }
        else
        {
            throw new NotSupportedException($"gemm: element type {typeof(T).Name} is not supported (float or double only)");
        }
    }
}
