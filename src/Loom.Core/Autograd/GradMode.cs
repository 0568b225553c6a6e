namespace Loom.Autograd;

/// <summary>Whether ops record backward nodes on this thread. Off inside <see cref="NoGrad"/> scopes and while backward runs.</summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabledDepth;

    public static bool IsEnabled => _disabledDepth == 0;

    internal static void Disable() => _disabledDepth++;

    internal static void Restore() => _disabledDepth--;

    /// <summary>True when an op with these inputs must record a backward node.</summary>
    internal static bool ShouldRecord(Tensor a) => _disabledDepth == 0 && a.RequiresGrad;

    internal static bool ShouldRecord(Tensor a, Tensor b) => _disabledDepth == 0 && (a.RequiresGrad || b.RequiresGrad);

    internal static bool ShouldRecord(Tensor a, Tensor? b, Tensor? c) =>
        _disabledDepth == 0 && (a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));

    internal static bool ShouldRecord(IReadOnlyList<Tensor> inputs)
    {
        if (_disabledDepth != 0) return false;
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }
}
