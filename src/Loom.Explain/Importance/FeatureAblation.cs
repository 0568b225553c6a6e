namespace Loom.Explain;

/// <summary>
/// Global feature ablation: the score lost when one feature column is replaced by a constant (its mean by default)
/// for every sample: the model's own answer to "what if it could not see this feature", which permutation importance
/// estimates without assuming a replacement value. Captum's <c>FeatureAblation</c> is the per-sample form.
/// </summary>
public static class FeatureAblation
{
    /// <param name="score">(inputs, targets) → a score where higher is better.</param>
    /// <param name="inputs">[N, F] rows.</param>
    /// <param name="values">The value each feature takes when ablated; the column means of <paramref name="inputs"/> when null.</param>
    /// <returns>Per feature: baseline score − score with the feature ablated.</returns>
    public static double[] Compute(Func<Tensor, Tensor, double> score, Tensor inputs, Tensor targets, double[]? values = null)
    {
        if (inputs.Rank != 2) throw new ArgumentException($"feature ablation takes rows of features [N, F], got {inputs.Shape}");
        int features = inputs.Shape[1];
        var x = inputs.Detach().Contiguous();
        values ??= x.To(DType.Float64).Mean(0).ToArray<double>();
        if (values.Length != features) throw new ArgumentException($"{values.Length} ablation values for {features} features");
        double baseline = score(x, targets);
        var drops = new double[features];
        for (int f = 0; f < features; f++)
        {
            using var scope = new MemoryScope();
            var ablated = x.Clone();
            using (new NoGrad()) ablated.Narrow(1, f, 1).FillInPlace(values[f]);
            drops[f] = baseline - score(ablated, targets);
        }
        return drops;
    }
}
