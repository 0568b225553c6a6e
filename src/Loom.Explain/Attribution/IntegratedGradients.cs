namespace Loom.Explain;

/// <summary>
/// Integrated gradients (Sundararajan et al. 2017), as Captum's <c>IntegratedGradients</c>:
/// IG_i(x) = (x_i − x'_i) ∫₀¹ ∂f_t(x' + α(x − x'))/∂x_i dα, approximated by <see cref="Steps"/> points of
/// <see cref="Method"/>. By the fundamental theorem of calculus along the path, Σ_i IG_i = f_t(x) − f_t(x'): the
/// completeness axiom, which <see cref="Explain"/> checks per sample.
/// </summary>
/// <remarks>
/// The path points of several samples go through the model together: <see cref="BatchSize"/> rows per pass, so a
/// default of 50 steps explains about five samples per pass of 256 rows.
/// </remarks>
public sealed class IntegratedGradients(Module<Tensor, Tensor> model) : IAttribution
{
    public const int DefaultSteps = 50;

    public int Steps { get; init; } = DefaultSteps;

    public IntegrationMethod Method { get; init; } = IntegrationMethod.GaussLegendre;

    /// <summary>Rows (path points) per forward and backward pass.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// When set, samples whose completeness error |δ| / |f(x) − f(x')| exceeds it are integrated again with twice the
    /// steps (Gauss–Legendre nodes do not nest, so each round is a fresh rule), until they meet it or
    /// <see cref="MaxSteps"/> is reached. Worth it where the gradient jumps along the path (ReLU and max-pool kinks):
    /// there the error shrinks only about in proportion to the steps, and only for the few samples that need it.
    /// </summary>
    public double? Tolerance { get; init; }

    /// <summary>The most steps <see cref="Tolerance"/> may double up to.</summary>
    public int MaxSteps { get; init; } = 32 * DefaultSteps;

    public Tensor Attribute(Tensor inputs, Tensor? targets = null) => Explain(inputs, targets).Attributions;

    /// <summary>Attributions against the all-zero baseline (or <paramref name="baseline"/>), with the completeness check.</summary>
    /// <param name="baseline">x': broadcastable to the inputs ([N, …], [1, …] or a scalar); zeros when null.</param>
    public IntegratedGradientsResult Explain(Tensor inputs, Tensor? targets = null, Tensor? baseline = null)
    {
        ModelOutputs.Check(model, inputs, targets);
        if (Tolerance is <= 0 or double.NaN) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "the completeness tolerance must be positive");
        var x = inputs.Detach();
        Tensor baselines;
        using (MemoryScope.Persistent())
            baselines = (baseline ?? Tensor.Zeros(Shape.Scalar, x.DType)).Detach().To(x.DType).BroadcastTo(x.Shape).Contiguous();
        int n = x.Shape[0];
        var atInputs = ModelOutputs.Values(model, x, targets, BatchSize);
        var atBaselines = ModelOutputs.Values(model, baselines, targets, BatchSize);
        var outputDifference = new double[n];
        for (int i = 0; i < n; i++) outputDifference[i] = atInputs[i] - atBaselines[i];

        var (attributions, sums) = Integrate(x, baselines, targets, Steps);
        var delta = new double[n];
        for (int i = 0; i < n; i++) delta[i] = sums[i] - outputDifference[i];
        var steps = Enumerable.Repeat(Steps, n).ToArray();
        var firstPass = delta.Select((d, i) => IntegratedGradientsResult.Relative(d, outputDifference[i])).ToArray();
        if (Tolerance is { } tolerance)
        {
            var pending = Enumerable.Range(0, n).Where(i => firstPass[i] > tolerance).ToList();
            for (int k = 2 * Steps; pending.Count > 0 && k <= MaxSteps; k *= 2)
            {
                var rows = Tensor.FromArray(pending.Select(i => (long)i).ToArray());
                var (refined, refinedSums) = Integrate(x.IndexSelect(0, rows), baselines.IndexSelect(0, rows), targets?.IndexSelect(0, rows), k);
                for (int j = 0; j < pending.Count; j++)
                {
                    int i = pending[j];
                    using (new NoGrad()) attributions.Narrow(0, i, 1).CopyFrom(refined.Narrow(0, j, 1));
                    (delta[i], steps[i]) = (refinedSums[j] - outputDifference[i], k);
                }
                pending = pending.Where(i => IntegratedGradientsResult.Relative(delta[i], outputDifference[i]) > tolerance).ToList();
            }
        }
        return new IntegratedGradientsResult(attributions, delta, outputDifference) { Steps = steps, FirstPassRelativeError = firstPass };
    }

    /// <summary>The attributions of every sample with <paramref name="stepCount"/> nodes of <see cref="Method"/>, and their sums per sample.</summary>
    private (Tensor Attributions, double[] Sums) Integrate(Tensor x, Tensor baselines, Tensor? targets, int stepCount)
    {
        var (alphas, weights) = Quadrature.Rule(Method, stepCount);
        int n = x.Shape[0], steps = alphas.Length;
        // Whole samples per chunk, so that each chunk's path points are one contiguous block of rows.
        int samplesPerChunk = Math.Max(1, BatchSize / steps);
        Tensor attributions;
        using (MemoryScope.Persistent()) attributions = Tensor.Zeros(x.Shape, x.DType);
        var alpha = Tensor.FromArray(alphas).To(x.DType);
        var weight = Tensor.FromArray(weights).To(x.DType);
        // [steps, 1, 1, …]: one α (and weight) per step, broadcast over samples and elements.
        var pathShape = Enumerable.Repeat(1, x.Rank + 1).ToArray();
        pathShape[0] = steps;
        var sampleShape = x.Shape.ToArray()[1..];
        for (int start = 0; start < n; start += samplesPerChunk)
        {
            int rows = Math.Min(samplesPerChunk, n - start);
            using var scope = new MemoryScope();
            var xs = x.Narrow(0, start, rows);
            var bs = baselines.Narrow(0, start, rows);
            var difference = xs.Sub(bs);
            // [steps, rows, …]: x' + α_k (x − x') for every step k and sample, flattened step-major.
            var path = bs.Unsqueeze(0).Add(alpha.Reshape(pathShape).Mul(difference.Unsqueeze(0))).Reshape([steps * rows, .. sampleShape]);
            Tensor? pathTargets = targets is null ? null
                : targets.To(DType.Int64).Narrow(0, start, rows).Unsqueeze(0).Expand(steps, rows).Contiguous().Reshape(steps * rows);
            var (gradients, _) = ModelOutputs.Gradients(model, path, pathTargets, BatchSize);
            var integral = gradients.Reshape([steps, rows, .. sampleShape]).Mul(weight.Reshape(pathShape)).Sum(0);
            using (new NoGrad()) attributions.Narrow(0, start, rows).CopyFrom(integral.Mul(difference));
        }
        return (attributions, attributions.Reshape(n, -1).Sum(1).To(DType.Float64).ToArray<double>());
    }
}
