namespace Loom.Explain;

/// <summary>
/// KernelSHAP (Lundberg and Lee 2017), as Captum's <c>KernelShap</c>, for small tabular models: Shapley values of the
/// features of each sample, estimated by a weighted linear regression of the model's output on coalitions z ∈ {0, 1}^M
/// (feature j taken from the sample where z_j = 1, from the baseline where 0), with the Shapley kernel
/// (M − 1) / (C(M, |z|) |z| (M − |z|)) as weights and Σ φ = f(x) − f(baseline) as a constraint. With few features every
/// coalition is enumerated and the values are exact; otherwise coalitions are drawn from the kernel, in complementary
/// pairs, so that the regression weights are uniform.
/// </summary>
public sealed class KernelShap(Module<Tensor, Tensor> model) : IAttribution
{
    /// <summary>Coalitions per sample (all of them, 2^M − 2, when that is fewer).</summary>
    public int Samples { get; init; } = 512;

    /// <summary>The values of absent features: [F] or [1, F]; zeros (the mean of standardised features) when null.</summary>
    public Tensor? Baseline { get; init; }

    public Generator? Generator { get; init; }

    /// <summary>Rows per forward pass.</summary>
    public int BatchSize { get; init; } = 4096;

    public Tensor Attribute(Tensor inputs, Tensor? targets = null)
    {
        ModelOutputs.Check(model, inputs, targets);
        if (inputs.Rank != 2) throw new ArgumentException($"KernelSHAP takes rows of features [N, F], got {inputs.Shape}");
        int n = inputs.Shape[0], m = inputs.Shape[1];
        if (m < 2) throw new ArgumentException("KernelSHAP needs at least two features");
        var baseline = (Baseline ?? Tensor.Zeros(new Shape(m), DType.Float64)).To(DType.Float64).Reshape(-1).ToArray<double>();
        if (baseline.Length != m) throw new ArgumentException($"a baseline of {baseline.Length} values for {m} features");
        var (coalitions, weights) = Coalitions(m);
        int s = weights.Length;
        var x = inputs.Detach().To(DType.Float64).Contiguous().ToArray<double>();
        var result = new double[n * m];
        var baseInput = Tensor.FromArray(baseline, 1, m).To(inputs.DType);
        for (int i = 0; i < n; i++)
        {
            var target = targets?.To(DType.Int64).Narrow(0, i, 1);
            double f0 = ModelOutputs.Values(model, baseInput, target, 1)[0];
            double fx = ModelOutputs.Values(model, inputs.Narrow(0, i, 1), target, 1)[0];
            // Every coalition of this sample as one batch of model inputs.
            var rows = new double[s * m];
            for (int c = 0; c < s; c++)
                for (int j = 0; j < m; j++) rows[c * m + j] = coalitions[c * m + j] ? x[i * m + j] : baseline[j];
            var repeated = target?.Expand(s).Contiguous();
            var values = ModelOutputs.Values(model, Tensor.FromArray(rows, s, m).To(inputs.DType), repeated, BatchSize);
            Solve(coalitions, weights, values, f0, fx - f0, m).CopyTo(result, i * m);
        }
        return Tensor.FromArray(result, n, m).To(inputs.DType);
    }

    /// <summary>Coalitions (row-major [S, M], true = feature present) and their regression weights.</summary>
    private (bool[] Coalitions, double[] Weights) Coalitions(int m)
    {
        if (m <= 20 && (1L << m) - 2 <= Samples)
        {
            // All 2^M − 2 proper, non-empty coalitions with the Shapley kernel's weights: the exact Shapley values.
            int count = (1 << m) - 2;
            var all = new bool[count * m];
            var weights = new double[count];
            for (int mask = 1, c = 0; mask < (1 << m) - 1; mask++, c++)
            {
                int size = System.Numerics.BitOperations.PopCount((uint)mask);
                for (int j = 0; j < m; j++) all[c * m + j] = (mask >> j & 1) == 1;
                weights[c] = (m - 1) / (Binomial(m, size) * size * (m - size));
            }
            return (all, weights);
        }
        // Sizes drawn with probability ∝ (M − 1) / (s (M − s)) (the kernel summed over the C(M, s) coalitions of size s),
        // then a uniform coalition of that size, and its complement: uniform regression weights.
        var generator = Generator ?? Random.Generator.Default;
        var sizeWeights = Enumerable.Range(1, m - 1).Select(size => (m - 1.0) / (size * (m - size))).ToArray();
        double total = sizeWeights.Sum();
        int pairs = Math.Max(1, Samples / 2);
        var sampled = new bool[2 * pairs * m];
        for (int p = 0; p < pairs; p++)
        {
            double u = generator.NextDouble() * total;
            int size = 1;
            while (size < m - 1 && u > sizeWeights[size - 1])
            {
                u -= sizeWeights[size - 1];
                size++;
            }
            var order = generator.Permutation(m);
            for (int k = 0; k < m; k++)
            {
                bool present = Array.IndexOf(order, k) < size;
                sampled[2 * p * m + k] = present;
                sampled[(2 * p + 1) * m + k] = !present;
            }
        }
        return (sampled, Enumerable.Repeat(1.0, 2 * pairs).ToArray());
    }

    private static double Binomial(int n, int k)
    {
        double result = 1;
        for (int i = 1; i <= k; i++) result = result * (n - k + i) / i;
        return result;
    }

    /// <summary>
    /// Weighted least squares of f(z) − f0 on z with Σ φ = <paramref name="delta"/>, the constraint removed by
    /// substituting φ_M = delta − Σ_{j&lt;M} φ_j: regress f(z) − f0 − z_M·delta on z_j − z_M.
    /// </summary>
    private static double[] Solve(bool[] coalitions, double[] weights, double[] values, double f0, double delta, int m)
    {
        int k = m - 1, s = weights.Length;
        var normal = new double[k * k];
        var right = new double[k];
        var row = new double[k];
        for (int c = 0; c < s; c++)
        {
            double last = coalitions[c * m + m - 1] ? 1 : 0;
            for (int j = 0; j < k; j++) row[j] = (coalitions[c * m + j] ? 1 : 0) - last;
            double y = values[c] - f0 - last * delta, w = weights[c];
            for (int a = 0; a < k; a++)
            {
                right[a] += w * row[a] * y;
                for (int b = 0; b < k; b++) normal[a * k + b] += w * row[a] * row[b];
            }
        }
        // A tiny ridge keeps the system solvable when few coalitions leave some features never varied alone.
        double scale = Enumerable.Range(0, k).Max(a => normal[a * k + a]);
        for (int a = 0; a < k; a++) normal[a * k + a] += 1e-12 * Math.Max(scale, 1);
        var phi = GaussianElimination(normal, right, k);
        var result = new double[m];
        Array.Copy(phi, result, k);
        result[m - 1] = delta - phi.Sum();
        return result;
    }

    private static double[] GaussianElimination(double[] a, double[] b, int n)
    {
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++) if (Math.Abs(a[r * n + col]) > Math.Abs(a[pivot * n + col])) pivot = r;
            if (pivot != col)
            {
                for (int c = 0; c < n; c++) (a[col * n + c], a[pivot * n + c]) = (a[pivot * n + c], a[col * n + c]);
                (b[col], b[pivot]) = (b[pivot], b[col]);
            }
            for (int r = col + 1; r < n; r++)
            {
                double factor = a[r * n + col] / a[col * n + col];
                for (int c = col; c < n; c++) a[r * n + c] -= factor * a[col * n + c];
                b[r] -= factor * b[col];
            }
        }
        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double sum = b[r];
            for (int c = r + 1; c < n; c++) sum -= a[r * n + c] * x[c];
            x[r] = sum / a[r * n + r];
        }
        return x;
    }
}
