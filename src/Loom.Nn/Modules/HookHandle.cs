namespace Loom.Nn;

/// <summary>Returned by hook registration; <see cref="Remove"/> unregisters the hook (idempotent).</summary>
public sealed class HookHandle
{
    private Action? _remove;

    internal HookHandle(Action remove) => _remove = remove;

    public void Remove()
    {
        _remove?.Invoke();
        _remove = null;
    }
}
