namespace Loom.Compress;

/// <summary>One attention layer's head count before and after <see cref="HeadPruning.Prune"/>.</summary>
public sealed record PrunedHeads(string Layer, int Before, int After);

/// <summary>
/// Structured pruning of attention heads (Michel, Levy and Neubig 2019): every <see cref="IHeadPrunable"/> layer is
/// scored per head on calibration batches, the lowest-scoring heads of the whole model are removed, and each layer is
/// swapped for a smaller dense one (its query, key and value rows and output-projection columns sliced).
/// </summary>
public static class HeadPruning
{
    /// <summary>
    /// Each head's importance: the mean over calibration positions of the L2 norm of what the head adds to its
    /// layer's output (its output times its columns of the output projection). A head whose output-projection columns
    /// are zero scores exactly 0, so it is the first to go, and removing it changes nothing. By layer name.
    /// </summary>
    /// <remarks>
    /// The score is measured where heads meet the residual stream, so heads of different layers compare on one
    /// scale (a head that attends sharply but writes little is unimportant). Computed in eval mode without gradients;
    /// padding positions of text batches count like the others.
    /// </remarks>
    public static Dictionary<string, double[]> Importance(Module<Tensor, Tensor> model, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        var layers = Layers(model);
        if (layers.Count == 0) throw new ArgumentException($"{model.GetType().Name} has no attention layer whose heads can be removed");
        var sums = layers.ToDictionary(l => l.Name, l => new double[l.Layer.NumHeads]);
        long positions = 0;
        var handles = new List<HookHandle>();
        foreach (var (name, layer) in layers)
        {
            var sum = sums[name];
            int heads = layer.NumHeads, headDim = layer.HeadDim;
            var weight = layer.OutputProjection.Weight;
            handles.Add(layer.OutputProjection.RegisterForwardPreHook((_, x) =>
            {
                var input = (Tensor)x;
                int n = (int)(input.Numel / (heads * headDim));
                // [n, H, D] × [H, D, E] → [H, n, E]: each head's contribution to the projection's output.
                var perHead = input.Detach().Reshape(n, heads, headDim).Transpose(0, 1)
                    .Matmul(weight.Detach().Reshape(weight.Shape[0], heads, headDim).Permute(1, 2, 0));
                var norms = perHead.To(DType.Float64).Pow(2).Sum(-1).Sqrt().Sum(-1).ToArray<double>();
                for (int h = 0; h < heads; h++) sum[h] += norms[h];
                return null;
            }));
        }
        bool training = model.Training;
        try
        {
            model.Eval();
            using var noGrad = new NoGrad();
            foreach (var batch in batches)
            {
                model.Forward(batch);
                positions++;
            }
        }
        finally
        {
            foreach (var handle in handles) handle.Remove();
            model.Train(training);
        }
        if (positions == 0) throw new ArgumentException("head importance needs at least one calibration batch");
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => v / positions).ToArray());
    }

    /// <summary>
    /// Removes round(<paramref name="fraction"/> · all heads) of the lowest <paramref name="importance"/> across the
    /// model (each layer keeps at least one: a layer without heads would be a different architecture) and swaps in the
    /// smaller layers. Ties go to the later head. Returns every layer's counts, changed or not.
    /// </summary>
    public static IReadOnlyList<PrunedHeads> Prune(Module model, double fraction, IReadOnlyDictionary<string, double[]> importance)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(importance);
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "head pruning: fraction must be in [0, 1)");
        var layers = Layers(model);
        foreach (var (name, layer) in layers)
            if (!importance.TryGetValue(name, out var scores) || scores.Length != layer.NumHeads)
                throw new ArgumentException($"head pruning: no importance for the {layer.NumHeads} heads of '{name}'");
        var ranked = layers.SelectMany(l => importance[l.Name].Select((score, head) => (l.Name, Head: head, Score: score)))
            .OrderBy(h => h.Score).ThenByDescending(h => h.Head).ToList();
        int total = ranked.Count, toRemove = (int)Math.Round(fraction * total);
        var left = layers.ToDictionary(l => l.Name, l => l.Layer.NumHeads);
        var removed = layers.ToDictionary(l => l.Name, _ => new HashSet<int>());
        foreach (var (name, head, _) in ranked)
        {
            if (toRemove == 0) break;
            if (left[name] == 1) continue;
            removed[name].Add(head);
            left[name]--;
            toRemove--;
        }
        var result = new List<PrunedHeads>();
        foreach (var (name, layer) in layers)
        {
            if (removed[name].Count > 0)
                model.SetSubmodule(name, layer.KeepHeads([.. Enumerable.Range(0, layer.NumHeads).Where(h => !removed[name].Contains(h))]));
            result.Add(new PrunedHeads(name, layer.NumHeads, left[name]));
        }
        return result;
    }

    /// <summary>
    /// Gives the layers the head counts a pruned model had (by layer name), so a checkpoint of the pruned model
    /// loads: the first heads are kept, their weights replaced by the checkpoint's.
    /// </summary>
    public static void Resize(Module model, IReadOnlyDictionary<string, int> heads)
    {
        ArgumentNullException.ThrowIfNull(heads);
        var layers = Layers(model).ToDictionary(l => l.Name, l => l.Layer);
        foreach (var (name, count) in heads)
        {
            if (!layers.TryGetValue(name, out var layer))
                throw new InvalidDataException($"pruned_heads names '{name}', which is not an attention layer of the {model.GetType().Name}");
            if (count < 1 || count > layer.NumHeads)
                throw new InvalidDataException($"pruned_heads gives '{name}' {count} heads; it has {layer.NumHeads}");
            if (count < layer.NumHeads) model.SetSubmodule(name, layer.KeepHeads([.. Enumerable.Range(0, count)]));
        }
    }

    private static List<(string Name, IHeadPrunable Layer)> Layers(Module model) =>
        [.. model.NamedModules().Where(m => m.Module is IHeadPrunable).Select(m => (m.Name, (IHeadPrunable)m.Module))];
}
