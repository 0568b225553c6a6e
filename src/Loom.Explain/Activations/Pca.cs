namespace Loom.Explain;

/// <summary>
/// Principal component analysis of rows of features, for 2-D pictures of a layer's activations: the top components by
/// randomised subspace iteration (Halko, Martinsson and Tropp 2011), which needs only products with the centred data,
/// so a layer of thousands of features costs a few matrix products rather than a D × D covariance.
/// </summary>
public static class Pca
{
    /// <summary>
    /// The projections of the centred rows of <paramref name="features"/> [N, D] onto its top <paramref name="components"/>
    /// principal axes ([N, components], float64), the axes ([components, D]) and the fraction of the total variance each explains.
    /// </summary>
    public static (Tensor Projection, Tensor Axes, double[] ExplainedVarianceRatio) Fit(Tensor features, int components = 2, int iterations = 8, ulong seed = 0)
    {
        if (features.Rank != 2) throw new ArgumentException($"PCA takes rows of features [N, D], got {features.Shape}");
        int n = features.Shape[0], d = features.Shape[1];
        if (components < 1 || components > Math.Min(n, d)) throw new ArgumentException($"PCA of {n} rows of {d} features can give 1 to {Math.Min(n, d)} components, not {components}");
        var x = features.Detach().To(DType.Float64);
        var centred = x.Sub(x.Mean(0, keepDim: true));
        double totalVariance = centred.Square().Sum().Item() / Math.Max(1, n - 1);
        // A few extra directions make the top ones converge in a handful of iterations.
        int width = Math.Min(components + 8, Math.Min(n, d));
        var basis = Orthonormal(Tensor.Randn(new Shape(d, width), new Random.Generator(seed), DType.Float64));
        for (int i = 0; i < iterations; i++)
            basis = Orthonormal(centred.Transpose(0, 1).Matmul(centred.Matmul(basis)));
        // Within the subspace, the exact eigenvectors of the small covariance Bᵀ C B.
        var projected = centred.Matmul(basis); // [N, width]
        var small = projected.Transpose(0, 1).Matmul(projected).Div(Math.Max(1, n - 1)).ToArray<double>();
        var (values, vectors) = SymmetricEigen(small, width);
        var order = Enumerable.Range(0, width).OrderByDescending(k => values[k]).Take(components).ToArray();
        var rotation = new double[width * components];
        for (int c = 0; c < components; c++)
            for (int r = 0; r < width; r++) rotation[r * components + c] = vectors[r * width + order[c]];
        var rotate = Tensor.FromArray(rotation, width, components);
        var axes = basis.Matmul(rotate).Transpose(0, 1).Contiguous();
        var ratio = order.Select(k => totalVariance > 0 ? values[k] / totalVariance : 0).ToArray();
        return (projected.Matmul(rotate), axes, ratio);
    }

    /// <summary>
    /// Columns of <paramref name="m"/> [D, k] made orthonormal by Gram–Schmidt run twice ("twice is enough": one pass
    /// loses orthogonality when a column is nearly dependent on the others). A column with nothing left after
    /// removing the others — data of lower rank than the subspace — becomes zero rather than amplified rounding noise.
    /// </summary>
    private static Tensor Orthonormal(Tensor m)
    {
        int d = m.Shape[0], k = m.Shape[1];
        var a = m.Contiguous().ToArray<double>();
        for (int j = 0; j < k; j++)
        {
            double before = Norm(a, d, k, j);
            for (int pass = 0; pass < 2; pass++)
                for (int p = 0; p < j; p++)
                {
                    double dot = 0;
                    for (int r = 0; r < d; r++) dot += a[r * k + j] * a[r * k + p];
                    for (int r = 0; r < d; r++) a[r * k + j] -= dot * a[r * k + p];
                }
            double norm = Norm(a, d, k, j);
            double scale = norm > 1e-10 * before && norm > 0 ? 1 / norm : 0;
            for (int r = 0; r < d; r++) a[r * k + j] *= scale;
        }
        return Tensor.FromArray(a, d, k);
    }

    private static double Norm(double[] a, int d, int k, int column)
    {
        double sum = 0;
        for (int r = 0; r < d; r++) sum += a[r * k + column] * a[r * k + column];
        return Math.Sqrt(sum);
    }

    /// <summary>Eigenvalues and eigenvectors (columns, row-major [n, n]) of a small symmetric matrix by cyclic Jacobi rotations.</summary>
    internal static (double[] Values, double[] Vectors) SymmetricEigen(double[] matrix, int n)
    {
        var a = (double[])matrix.Clone();
        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (Math.Abs(apq) < 1e-300) continue;
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        // A ← Jᵀ A J, applied as a column rotation then a row rotation.
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
        }
        return (Enumerable.Range(0, n).Select(i => a[i * n + i]).ToArray(), v);
    }
}
