namespace Loom.Autograd;

/// <summary>Whether ops record backward nodes on this thread. Off inside <see cref="NoGrad"/> scopes and while backward runs.</summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabledDepth;

    public static bool IsEnabled => _disabledDepth == 0;

    internal static void Disable() => _disabledDepth++;

    internal static void Restore() => _disabledDepth--;

    /// <summary>
    /// True when an op with these inputs must record a backward node: grad mode is on and some input requires grad.
    /// A custom op (a <see cref="BackwardNode"/> subclass) asks this before attaching its node.
    /// </summary>
    public static bool ShouldRecord(Tensor a) => _disabledDepth == 0 && a.RequiresGrad;

    public static bool ShouldRecord(Tensor a, Tensor b) => _disabledDepth == 0 && (a.RequiresGrad || b.RequiresGrad);

    public static bool ShouldRecord(Tensor a, Tensor? b, Tensor? c) =>
        _disabledDepth == 0 && (a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));

    public static bool ShouldRecord(IReadOnlyList<Tensor> inputs)
    {
        if (_disabledDepth != 0) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }
}
