namespace Loom.Explain;

/// <summary>
/// The sanity checks of Adebayo et al. (2018), "Sanity Checks for Saliency Maps": an attribution method that explains
/// the model must give different maps when the model's weights are randomised (layer by layer from the output down,
/// cumulatively) and when the model was trained on randomised labels. Similarity is Spearman's rank correlation of
/// the absolute attributions, per sample, averaged.
/// </summary>
public static class SanityChecks
{
    /// <summary>Mean over samples of Spearman's correlation between |a_i| and |b_i| (each sample's map flattened).</summary>
    public static double MapSimilarity(Tensor a, Tensor b)
    {
        if (a.Shape != b.Shape) throw new ArgumentException($"attribution maps {a.Shape} and {b.Shape} differ in shape");
        int n = a.Shape[0];
        var x = a.Abs().To(DType.Float64).Reshape(n, -1).ToArray<double>();
        var y = b.Abs().To(DType.Float64).Reshape(n, -1).ToArray<double>();
        int d = x.Length / n;
        return Enumerable.Range(0, n).Average(i => RankCorrelation.Spearman(new ArraySegment<double>(x, i * d, d), new ArraySegment<double>(y, i * d, d)));
    }

    /// <summary>
    /// Cascading randomisation: the layers with parameters, from the output down, are re-drawn one more at a time
    /// (each parameter from a normal distribution with its own mean and standard deviation, so scales stay alike), and
    /// after each the maps of <paramref name="attribute"/> are compared with the trained model's. The model's weights are
    /// restored afterwards.
    /// </summary>
    /// <param name="attribute">(model, inputs, targets) → attributions, e.g. saliency.</param>
    /// <returns>Per step: the name of the layer randomised last, and the map similarity with all layers down to it random.</returns>
    public static IReadOnlyList<(string Layer, double Similarity)> CascadingRandomization(Module<Tensor, Tensor> model,
        Func<Module<Tensor, Tensor>, Tensor, Tensor, Tensor> attribute, Tensor inputs, Tensor targets, ulong seed = 0)
    {
        var original = attribute(model, inputs, targets);
        var saved = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var layers = model.NamedModules().Where(m => m.Module.OwnParameters().Any()).Reverse().ToList();
        var generator = new Generator(seed);
        var result = new List<(string, double)>();
        try
        {
            foreach (var (name, layer) in layers)
            {
                using (new NoGrad())
                    foreach (var (_, p) in layer.OwnParameters())
                    {
                        double mean = p.To(DType.Float64).Mean().Item();
                        double std = p.Numel > 1 ? p.To(DType.Float64).Std().Item() : Math.Abs(mean);
                        p.CopyFrom(Tensor.Randn(p.Shape, generator, p.DType, mean, std > 0 ? std : 1e-2));
                    }
                result.Add((name, MapSimilarity(original, attribute(model, inputs, targets))));
            }
        }
        finally
        {
            model.LoadStateDict(saved);
        }
        return result;
    }
}
