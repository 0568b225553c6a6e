namespace Loom;

// Post-accumulate-grad hooks (PyTorch's Tensor.register_post_accumulate_grad_hook). Data parallelism needs to know,
// during backward, the moment a parameter's gradient is final, so it can start reducing it while the rest of the
// graph is still being differentiated; the engine knows that moment (the last edge into the leaf has run) and
// nothing above Core does.
public partial class Tensor
{
    private List<Action<Tensor>>? _gradHooks;
    private static int _liveGradHooks;

    /// <summary>Whether any tensor has a grad hook; the engine skips the bookkeeping while none does.</summary>
    internal static bool AnyGradHooks => Volatile.Read(ref _liveGradHooks) > 0;

    internal bool HasGradHooks => _gradHooks is { Count: > 0 };

    /// <summary>
    /// Calls <paramref name="hook"/> with this leaf once per <see cref="Backward"/> that reaches it, after its last
    /// gradient contribution of that backward has been accumulated into <see cref="Grad"/> (which is null when every
    /// path to it carried no gradient). Hooks run on the backward's thread, in registration order, with grad mode off.
    /// </summary>
    /// <returns>Dispose it to remove the hook.</returns>
    public IDisposable RegisterPostAccumulateGradHook(Action<Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!IsLeaf)
            throw new InvalidOperationException($"RegisterPostAccumulateGradHook: only leaf tensors accumulate gradients; this tensor was produced by {GradFn!.OpName}");
        (_gradHooks ??= []).Add(hook);
        Interlocked.Increment(ref _liveGradHooks);
        return new GradHookRegistration(this, hook);
    }

    internal void RunGradHooks()
    {
        // A copy: a hook may remove itself (or another) while they run.
        foreach (var hook in _gradHooks!.ToArray()) hook(this);
    }

    private sealed class GradHookRegistration(Tensor tensor, Action<Tensor> hook) : IDisposable
    {
        private Tensor? _tensor = tensor;

        public void Dispose()
        {
            if (_tensor is null) return;
            if (_tensor._gradHooks!.Remove(hook)) Interlocked.Decrement(ref _liveGradHooks);
            _tensor = null;
        }
    }
}
