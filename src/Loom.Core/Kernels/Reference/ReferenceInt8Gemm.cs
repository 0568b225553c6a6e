namespace Loom.Kernels.Reference;

/// <summary>The naive int8 product, the oracle every <see cref="Int8Gemm"/> path is tested against.</summary>
public static class ReferenceInt8Gemm
{
    /// <summary>C [m, n] = (A − zeroA) · Wᵀ in int32, from the unpacked W [n, k] (row stride ldw).</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<byte> a, int lda, int zeroA, ReadOnlySpan<sbyte> w, int ldw, Span<int> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int sum = 0;
                for (int p = 0; p < k; p++) sum += (a[i * lda + p] - zeroA) * w[j * ldw + p];
                c[i * ldc + j] = sum;
            }
    }

    /// <summary>The dequantised product: scaleA · scaleW[j] · Σ (a − zeroA)·w + bias[j], the zero point applied through the row sum as the kernels do.</summary>
    public static void MultiplyDequantize(int m, int n, int k, ReadOnlySpan<byte> a, int lda, float scaleA, int zeroA,
        ReadOnlySpan<sbyte> w, int ldw, ReadOnlySpan<float> scaleW, ReadOnlySpan<float> bias, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int sum = 0, rowSum = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += a[i * lda + p] * w[j * ldw + p];
                    rowSum += w[j * ldw + p];
                }
                float v = (float)(sum - zeroA * rowSum) * (scaleW[j] * scaleA);
                c[i * ldc + j] = bias.IsEmpty ? v : v + bias[j];
            }
    }
}
