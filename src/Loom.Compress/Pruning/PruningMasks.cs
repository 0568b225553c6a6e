namespace Loom.Compress;

/// <summary>How magnitude pruning ranks weights: against every pruned tensor at once, or within each tensor.</summary>
public enum PruningScope
{
    /// <summary>One threshold over all pruned tensors: layers with many small weights lose more (PyTorch's global_unstructured).</summary>
    Global,
    /// <summary>Every tensor pruned to the same sparsity (PyTorch's l1_unstructured per layer).</summary>
    LayerWise,
}

/// <summary>
/// Unstructured pruning masks (1 keep, 0 pruned) for named parameters of a model. <see cref="Apply"/> zeroes the
/// pruned weights; called after every optimiser step (<see cref="PruningCallback"/>), it keeps them at zero however
/// the optimiser's momentum would move them.
/// </summary>
/// <remarks>
/// A pruned weight is exactly 0 after <see cref="Apply"/>, so a checkpoint of the model carries its mask:
/// <see cref="FromZeros"/> rebuilds it on resume. (A kept weight landing on exactly 0.0 would join the mask; for float
/// weights after a gradient step that does not happen in practice.)
/// </remarks>
public sealed class PruningMasks
{
    private readonly Dictionary<string, (Parameter Parameter, float[] Mask)> _masks;

    private PruningMasks(Dictionary<string, (Parameter, float[])> masks) => _masks = masks;

    /// <summary>The pruned parameters' names, in the model's order.</summary>
    public IReadOnlyList<string> Names => [.. _masks.Keys];

    /// <summary>The mask of parameter <paramref name="name"/> (1 keep, 0 pruned), in row-major order.</summary>
    public ReadOnlySpan<float> Mask(string name) => _masks[name].Mask;

    /// <summary>Pruned fraction over all masked parameters.</summary>
    public double Sparsity
    {
        get
        {
            long total = _masks.Values.Sum(m => (long)m.Mask.Length);
            long pruned = _masks.Values.Sum(m => (long)m.Mask.Count(v => v == 0));
            return total == 0 ? 0 : (double)pruned / total;
        }
    }

    /// <summary>Zeroes the pruned weights, in place, outside autograd.</summary>
    public void Apply()
    {
        using var noGrad = new NoGrad();
        foreach (var (p, mask) in _masks.Values)
        {
            var w = p.AsSpan<float>();
            TensorPrimitives.Multiply(w, mask, w);
        }
    }

    /// <summary>The parameters magnitude pruning considers by default: the weights of rank 2 or more (linear, convolution, embedding), not biases or norms.</summary>
    public static IEnumerable<(string Name, Parameter Parameter)> Prunable(Module model) =>
        model.NamedParameters().Where(p => p.Parameter.Rank >= 2 && p.Parameter.DType == DType.Float32);

    /// <summary>Masks of the weights that are exactly zero now (see remarks), for <paramref name="names"/> or every prunable weight.</summary>
    public static PruningMasks FromZeros(Module model, IEnumerable<string>? names = null)
    {
        var wanted = names?.ToHashSet();
        var masks = new Dictionary<string, (Parameter, float[])>();
        foreach (var (name, p) in Prunable(model))
        {
            if (wanted is not null && !wanted.Contains(name)) continue;
            var w = p.Contiguous().AsReadOnlySpan<float>();
            var mask = new float[w.Length];
            for (int i = 0; i < w.Length; i++) mask[i] = w[i] == 0 ? 0f : 1f;
            masks[name] = (p, mask);
        }
        return new PruningMasks(masks);
    }

    /// <summary>
    /// Magnitude pruning: the <paramref name="sparsity"/> fraction of smallest |w| (over all prunable weights, or per
    /// tensor) is masked, and the mask applied. Exactly round(sparsity · n) weights are pruned; among equal magnitudes
    /// the earlier ones go first. Weights a previous mask pruned (<paramref name="previous"/>) stay pruned.
    /// </summary>
    public static PruningMasks Magnitude(Module model, double sparsity, PruningScope scope = PruningScope.Global, PruningMasks? previous = null)
    {
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "pruning: sparsity must be in [0, 1)");
        var prunable = Prunable(model).ToList();
        if (prunable.Count == 0) throw new ArgumentException($"pruning: {model.GetType().Name} has no weights of rank 2 or more to prune");
        var masks = new Dictionary<string, (Parameter, float[])>();
        foreach (var (name, p) in prunable) masks[name] = (p, Enumerable.Repeat(1f, p.Numel).ToArray());
        var groups = scope == PruningScope.Global ? [prunable] : prunable.Select(p => new List<(string, Parameter)> { p }).ToList();
        foreach (var group in groups)
        {
            // Magnitudes of the group, each with its owner and index; a pruned weight of an earlier mask counts as 0.
            var entries = new List<(float Magnitude, int Tensor, int Index)>();
            for (int t = 0; t < group.Count; t++)
            {
                var (name, p) = group[t];
                var w = p.Contiguous().AsReadOnlySpan<float>();
                bool hasPrevious = previous is not null && previous._masks.ContainsKey(name);
                for (int i = 0; i < w.Length; i++)
                    entries.Add((hasPrevious && previous!._masks[name].Mask[i] == 0 ? 0f : MathF.Abs(w[i]), t, i));
            }
            int prune = (int)Math.Round(sparsity * entries.Count);
            entries.Sort((a, b) => a.Magnitude != b.Magnitude ? a.Magnitude.CompareTo(b.Magnitude) : a.Tensor != b.Tensor ? a.Tensor.CompareTo(b.Tensor) : a.Index.CompareTo(b.Index));
            for (int e = 0; e < prune; e++) masks[group[entries[e].Tensor].Item1].Item2[entries[e].Index] = 0f;
        }
        if (previous is not null)
            foreach (var (name, (_, mask)) in masks)
                if (previous._masks.TryGetValue(name, out var old))
                    for (int i = 0; i < mask.Length; i++) mask[i] *= old.Mask[i];
        var result = new PruningMasks(masks);
        result.Apply();
        return result;
    }
}
