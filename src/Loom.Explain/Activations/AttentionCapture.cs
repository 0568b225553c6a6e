namespace Loom.Explain;

/// <summary>
/// Attention hooks on every attention layer of a model (<see cref="IAttentionLayer"/>: multi-head attention inside
/// the transformer layers, GPT blocks) that pass each layer's probabilities [B, heads, L, S] to a callback; disposing
/// removes every hook.
/// </summary>
public sealed class AttentionCapture : IDisposable
{
    private readonly List<HookHandle> _handles = [];

    /// <param name="onWeights">Called with (layer name, probabilities [B, heads, L, S]) after each forward of an attention layer.</param>
    public AttentionCapture(Module model, Action<string, Tensor> onWeights)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(onWeights);
        foreach (var (name, module) in model.NamedModules())
        {
            if (module is not IAttentionLayer attention) continue;
            Layers.Add((name, module));
            _handles.Add(attention.RegisterAttentionHook((_, weights) => onWeights(name, weights)));
        }
    }

    /// <summary>The model's attention layers, in the order of <see cref="Module.NamedModules"/>.</summary>
    public List<(string Name, Module Module)> Layers { get; } = [];

    /// <summary>
    /// Every attention layer's probabilities [B, heads, L, S] for <paramref name="inputs"/>, detached copies in the order
    /// the layers ran: one forward pass without gradients, of the model as it is (in training mode dropout would change
    /// what later layers see). Throws when the model has no attention layer.
    /// </summary>
    public static List<(string Layer, Tensor Weights)> Weights(Module<Tensor, Tensor> model, Tensor inputs)
    {
        var weights = new List<(string, Tensor)>();
        using var capture = new AttentionCapture(model, (name, w) =>
        {
            using (MemoryScope.Persistent()) weights.Add((name, w.Detach().Clone()));
        });
        if (capture.Layers.Count == 0)
            throw new ArgumentException($"the model ({model.GetType().Name}) has no attention layer");
        using (new NoGrad()) model.Forward(inputs);
        return weights;
    }

    public void Dispose()
    {
        foreach (var handle in _handles) handle.Remove();
        _handles.Clear();
    }
}
