namespace Loom.Autograd;

/// <summary>
/// A tensor a backward node keeps for its backward, with the storage version at the time it was saved.
/// Reading it after an in-place change, or after the graph was freed, throws instead of giving a wrong gradient.
/// </summary>
public sealed class SavedTensor
{
    private Tensor? _tensor;
    private readonly int _version;
    private readonly BackwardNode _owner;

    internal SavedTensor(Tensor tensor, BackwardNode owner)
    {
        _tensor = tensor;
        _version = tensor.Storage.Version;
        _owner = owner;
    }

    public Tensor Value
    {
        get
        {
            var t = _tensor ?? throw new InvalidOperationException(
                $"{_owner.OpName}: trying to backward through the graph a second time (saved tensors were freed after the first Backward()); pass retainGraph: true to the first Backward() to keep them");
            if (t.Storage.Version != _version)
                throw new InvalidOperationException(
                    $"{_owner.OpName}: a tensor of shape {t.Shape} saved for backward was modified by an in-place operation (version {_version} when saved, {t.Storage.Version} now); use an out-of-place op or Clone() before modifying it");
            return t;
        }
    }

    internal void Release() => _tensor = null;
}
