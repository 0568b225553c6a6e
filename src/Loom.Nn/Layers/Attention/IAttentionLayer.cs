namespace Loom.Nn;

/// <summary>
/// A layer that attends and can hand its attention probabilities to hooks: PyTorch's <c>need_weights=True</c> for
/// layers whose callers pass <c>need_weights=False</c> (the transformer layers, a GPT block), without editing them.
/// </summary>
/// <remarks>
/// Hooks receive softmax(Q·Kᵀ/√d + mask) per head, [B, heads, L, S] (B = 1 for an unbatched call), before dropout;
/// masked positions are exact zeros. They cost nothing while none is registered: layers that never form the
/// probabilities (a fused kernel) compute them only for a hook, and the layer's output is the same either way.
/// </remarks>
public interface IAttentionLayer
{
    /// <summary>Registers <paramref name="hook"/>(layer, probabilities), called after every forward of the layer.</summary>
    HookHandle RegisterAttentionHook(Action<Module, Tensor> hook);
}

/// <summary>The attention hooks of one <see cref="IAttentionLayer"/> (for layers outside Loom.Nn too).</summary>
public sealed class AttentionHooks
{
    private readonly List<Action<Module, Tensor>> _hooks = [];

    /// <summary>Whether any hook is registered: layers form the probabilities only then.</summary>
    public bool Any => _hooks.Count > 0;

    public HookHandle Register(Action<Module, Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        _hooks.Add(hook);
        return new HookHandle(() => _hooks.Remove(hook));
    }

    /// <summary>Calls every hook with <paramref name="layer"/> and its <paramref name="probabilities"/> [B, heads, L, S].</summary>
    public void Run(Module layer, Tensor probabilities)
    {
        foreach (var hook in _hooks.ToArray()) hook(layer, probabilities);
    }
}
