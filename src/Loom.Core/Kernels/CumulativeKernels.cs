namespace Loom.Kernels;

/// <summary>
/// Scans and products along one axis of a contiguous tensor seen as [outer, n, inner]: element k of line (o, i) is at
/// (o·n + k)·inner + i. Values are accumulated in double (as PyTorch's CPU kernels accumulate float32 in double), the
/// caller converts. Scalar loops: correctness first.
/// </summary>
internal static class CumulativeKernels
{
    public static void CumSum(ReadOnlySpan<double> x, Span<double> y, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = 0;
                for (int k = 0, at = o * n * inner + i; k < n; k++, at += inner) y[at] = acc += x[at];
            }
    }

    public static void CumSum(ReadOnlySpan<long> x, Span<long> y, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long acc = 0;
                for (int k = 0, at = o * n * inner + i; k < n; k++, at += inner) y[at] = acc += x[at];
            }
    }

    public static void CumProd(ReadOnlySpan<double> x, Span<double> y, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double acc = 1;
                for (int k = 0, at = o * n * inner + i; k < n; k++, at += inner) y[at] = acc *= x[at];
            }
    }

    public static void CumProd(ReadOnlySpan<long> x, Span<long> y, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long acc = 1;
                for (int k = 0, at = o * n * inner + i; k < n; k++, at += inner) y[at] = acc *= x[at];
            }
    }

    /// <summary>
    /// dx_k = Σ_{j ≥ k} dy_j · Π_{i ≤ j, i ≠ k} x_i, exact with zeros in x. With z the first zero of the line: before it
    /// dx_k = (Σ_{k ≤ j &lt; z} dy_j·y_j) / x_k (every later product holds x_z = 0); at z the products skip x_z
    /// (y_{z−1}·x_{z+1}·…·x_j); after it every term holds x_z, so dx_k = 0.
    /// </summary>
    public static void CumProdBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> dy, Span<double> dx, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int start = o * n * inner + i;
                int z = 0;
                while (z < n && x[start + z * inner] != 0) z++;
                double acc = 0;
                for (int k = z - 1; k >= 0; k--)
                {
                    int at = start + k * inner;
                    acc += dy[at] * y[at];
                    dx[at] = acc / x[at];
                }
                if (z == n) continue;
                int zAt = start + z * inner;
                double p = z > 0 ? y[zAt - inner] : 1, s = dy[zAt] * p;
                for (int j = z + 1; j < n; j++)
                {
                    int at = start + j * inner;
                    p *= x[at];
                    s += dy[at] * p;
                    dx[at] = 0;
                }
                dx[zAt] = s;
            }
    }

    /// <summary>y[o, i] = Π_k x[o, k, i] (double for floating types, long for integers and bool).</summary>
    public static void Prod<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int n, int inner) where T : INumber<T>
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                T acc = T.One;
                for (int k = 0, at = o * n * inner + i; k < n; k++, at += inner) acc *= x[at];
                y[o * inner + i] = acc;
            }
    }

    /// <summary>
    /// dx_k = dy · Π_{i ≠ k} x_i: dy·y/x_k when the line has no zero (PyTorch's formula), the product of the others at
    /// a lone zero and 0 elsewhere, and 0 everywhere when two or more elements are zero.
    /// </summary>
    public static void ProdBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> dy, Span<double> dx, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int start = o * n * inner + i, zeros = 0, z = -1;
                for (int k = 0; k < n; k++)
                    if (x[start + k * inner] == 0 && zeros++ == 0) z = k;
                double g = dy[o * inner + i];
                if (zeros == 0)
                {
                    double gy = g * y[o * inner + i];
                    for (int k = 0, at = start; k < n; k++, at += inner) dx[at] = gy / x[at];
                    continue;
                }
                double others = 1;
                for (int k = 0, at = start; k < n; k++, at += inner)
                {
                    dx[at] = 0;
                    if (k != z) others *= x[at];
                }
                if (zeros == 1) dx[start + z * inner] = g * others;
            }
    }
}
