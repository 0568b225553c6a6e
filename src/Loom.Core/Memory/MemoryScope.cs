namespace Loom.Memory;

/// <summary>
/// Returns the storage of every tensor created inside the scope to the <see cref="BufferPool{T}"/> when the scope
/// ends, except storages marked with <see cref="Keep"/> and those created under <see cref="Persistent"/>.
/// The trainer wraps each step in one; anything that must outlive the step (parameters, gradients, optimiser state)
/// is allocated persistently. A tensor used after its scope ended fails with a clear error rather than reading
/// another tensor's data, because its storage is emptied when returned.
/// </summary>
/// <remarks>Scopes are per thread and nest; storages created on other threads (data-loader workers) are not tracked.</remarks>
public sealed class MemoryScope : IDisposable
{
    [ThreadStatic] private static MemoryScope? _current;
    [ThreadStatic] private static int _persistentDepth;

    private readonly MemoryScope? _parent;
    private readonly List<Storage> _storages = [];
    private HashSet<Storage>? _kept;
    private bool _disposed;

    public MemoryScope()
    {
        _parent = _current;
        _current = this;
    }

    internal static void Track(Storage storage, bool poolable)
    {
        if (poolable && _persistentDepth == 0 && _current is { } scope) scope._storages.Add(storage);
    }

    /// <summary>Keeps a tensor's storage alive past the innermost scope (it passes to the enclosing scope, if any).</summary>
    public static Tensor Keep(Tensor tensor)
    {
        if (_current is { } scope)
        {
            (scope._kept ??= []).Add(tensor.Storage);
            scope._parent?._storages.Add(tensor.Storage);
        }
        return tensor;
    }

    /// <summary>
    /// Makes the innermost scope of this thread return <paramref name="tensor"/>'s storage to the pool when it ends, as
    /// if the tensor had been created inside it: for a tensor made on another thread (a data loader's batch, built by
    /// its prefetch worker) that nothing uses after the scope. Without it such a storage, rented from the pool, never
    /// goes back, and each step allocates its size anew (Note [Memory]). Without a scope it does nothing.
    /// </summary>
    public static Tensor Adopt(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (_persistentDepth == 0 && _current is { } scope && !scope._storages.Contains(tensor.Storage)) scope._storages.Add(tensor.Storage);
        return tensor;
    }

    /// <summary>Inside the returned region, allocations are not tracked by any scope (for state that outlives steps).</summary>
    public static PersistentRegion Persistent()
    {
        _persistentDepth++;
        return new PersistentRegion();
    }

    /// <summary>Ends a <see cref="Persistent"/> region.</summary>
    public readonly struct PersistentRegion : IDisposable
    {
        public void Dispose() => _persistentDepth--;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_current != this) throw new InvalidOperationException("MemoryScope disposed out of order: dispose inner scopes first");
        _current = _parent;
        foreach (var storage in _storages)
            if (_kept is null || !_kept.Contains(storage))
                storage.ReturnToPool();
        _storages.Clear();
    }
}
