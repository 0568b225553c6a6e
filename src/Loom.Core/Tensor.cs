namespace Loom;

/// <summary>
/// An n-dimensional array: a <see cref="Shape"/>, strides and an offset into a shared <see cref="Loom.Storage"/>.
/// Views (reshape, transpose, slice, expand…) share storage; ops that need flat data call <see cref="Contiguous"/>.
/// Tensors that require gradients record the op that made them (<see cref="GradFn"/>) so that
/// <see cref="Backward"/> can run the chain rule backwards.
/// </summary>
/// <remarks>
/// Tensors hold managed arrays and are not <see cref="IDisposable"/>; a <see cref="Memory.MemoryScope"/> recycles
/// the arrays of temporaries. The class is unsealed only so that <c>Loom.Nn.Parameter</c> can derive from it.
/// </remarks>
public partial class Tensor
{
    private readonly int[] _strides;
    private bool _requiresGrad;
    private BackwardNode? _gradFn;

    internal Tensor(Storage storage, Shape shape, int[] strides, int offset)
    {
        Storage = storage;
        Shape = shape;
        _strides = strides;
        Offset = offset;
    }

    internal Tensor(Storage storage, Shape shape) : this(storage, shape, shape.ContiguousStrides(), 0) { }

    /// <summary>A new tensor over the same storage and layout as <paramref name="source"/>, with no autograd history.</summary>
    protected Tensor(Tensor source) : this(source.Storage, source.Shape, source._strides, source.Offset) { }

    public Shape Shape { get; }

    public Storage Storage { get; }

    /// <summary>Offset of element [0, 0, …] in <see cref="Storage"/>, in elements.</summary>
    public int Offset { get; }

    /// <summary>Steps in storage, in elements, between neighbours along each dimension (0 for broadcast dimensions).</summary>
    public ReadOnlySpan<int> Strides => _strides;

    internal int[] StridesArray => _strides;

    public DType DType => Storage.DType;

    public int Rank => Shape.Rank;

    public int Numel => Shape.Numel;

    /// <summary>Size of dimension <paramref name="axis"/> (negative counts from the end).</summary>
    public int Size(int axis) => Shape[Shape.NormalizeAxis(axis, "Size")];

    /// <summary>True when the elements lie in storage in row-major order with no gaps.</summary>
    public bool IsContiguous
    {
        get
        {
            if (Shape.Numel == 0) return true; // as in PyTorch: no element is out of place (and strides of a [3, 0] tensor are [1, 1])
            int expected = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && _strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }

    // ---------------------------------------------------------------- autograd state

    /// <summary>
    /// Whether gradients flow to this tensor. Settable on leaves only (tensors no op produced); a tensor computed
    /// from one that requires grad requires grad itself.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad || _gradFn is not null;
        set
        {
            if (_gradFn is not null && !value)
                throw new InvalidOperationException($"RequiresGrad can only be changed on leaf tensors; this tensor was produced by {_gradFn.OpName}. Use Detach() to get a tensor without history.");
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"only floating-point tensors can require gradients, not {DType.Name()}");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient of a leaf after <see cref="Backward"/>; null until then.</summary>
    public Tensor? Grad
    {
        get
        {
            if (_gradZeroPending) MaterializeZeroGrad();
            return _grad;
        }
        set
        {
            _grad = value;
            _gradZeroPending = false;
        }
    }

    private Tensor? _grad;

    // ZeroGrad(setToNone: false) keeps the array but defers the clearing: the next backward's first contribution
    // overwrites it (a GEMM with beta = 0, a copy) instead of adding to zeros, so a training step makes no pass over
    // its gradients to clear them and none to add a temporary into them. Anyone who reads Grad first gets the zeros.
    private bool _gradZeroPending;

    /// <summary>
    /// Clears the gradient: sets <see cref="Grad"/> to null (PyTorch's default), or with <paramref name="setToNone"/>
    /// false makes it zero while keeping its array, so the next backward accumulates into the same memory. The zeros
    /// are not written now: the next backward's first contribution overwrites the array instead of adding to it, and
    /// reading <see cref="Grad"/> before that writes them. A gradient that cannot be kept (strided, or not floating
    /// point) is dropped instead.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        if (setToNone || _grad is not { IsContiguous: true } g || !g.DType.IsFloatingPoint())
        {
            Grad = null;
            return;
        }
        _gradZeroPending = true;
        g.Storage.BumpVersion(); // its values change now for anything that saved it, even though no memory is touched
    }

    private void MaterializeZeroGrad()
    {
        _gradZeroPending = false;
        var g = _grad!;
        if (g.DType == DType.Float32) g.Data<float>().Clear();
        else g.Data<double>().Clear();
        g.Storage.BumpVersion();
    }

    /// <summary>
    /// Where a backward node may write this leaf's gradient contribution itself (a GEMM straight into it, a scatter)
    /// instead of returning a temporary for the engine to add: the existing contiguous <see cref="Grad"/> of that shape
    /// and dtype, or null. <paramref name="assign"/> says the array holds a deferred zero (<see cref="ZeroGrad"/>): the
    /// write must overwrite it. Call <see cref="GradWritten"/> after writing; the node then returns no gradient for it.
    /// </summary>
    internal Tensor? InPlaceGradTarget(Shape shape, DType dtype, out bool assign)
    {
        assign = false;
        if (!IsLeaf || !RequiresGrad || _grad is not { IsContiguous: true } g || g.DType != dtype || g.Shape != shape) return null;
        assign = _gradZeroPending;
        return g;
    }

    /// <summary>A node wrote its contribution into the target <see cref="InPlaceGradTarget"/> gave.</summary>
    internal void GradWritten()
    {
        _gradZeroPending = false;
        _grad!.Storage.BumpVersion();
    }

    /// <summary>The backward node of the op that produced this tensor, or null for a leaf.</summary>
    public BackwardNode? GradFn
    {
        get => _gradFn;
        internal set => _gradFn = value;
    }

    public bool IsLeaf => _gradFn is null;

    /// <summary>Fluent form of setting <see cref="RequiresGrad"/>.</summary>
    public Tensor RequiresGrad_(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>A tensor sharing this one's data with no autograd history and RequiresGrad false.</summary>
    public Tensor Detach() => new(Storage, Shape, _strides, Offset);

    /// <summary>
    /// Back-propagates from this tensor, accumulating into <see cref="Grad"/> of every leaf that requires grad.
    /// A non-scalar tensor needs an explicit <paramref name="gradient"/> of its own shape.
    /// </summary>
    /// <param name="retainGraph">Keep saved tensors so that a second backward through the same graph is possible.</param>
    public void Backward(Tensor? gradient = null, bool retainGraph = false) => AutogradEngine.Backward(this, gradient, retainGraph);

    /// <summary>Marks an in-place write: bumps the storage version and refuses writes autograd could not follow.</summary>
    internal void MarkModifiedInPlace(string op)
    {
        if (GradMode.IsEnabled && RequiresGrad)
            throw new InvalidOperationException(
                IsLeaf
                    ? $"{op}: a leaf tensor that requires grad (shape {Shape}) cannot be modified in place; do it inside a NoGrad scope or on a Detach()ed tensor"
                    : $"{op}: in-place modification of a tensor that is part of an autograd graph (produced by {GradFn!.OpName}) is not supported; use the out-of-place op");
        Storage.BumpVersion();
    }

    // ---------------------------------------------------------------- data access

    /// <summary>
    /// The elements of a contiguous tensor, in row-major order, for reading (no copy). Reading is not a
    /// modification, so it never invalidates a tensor saved for backward.
    /// </summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the tensor's element type, or the
    /// tensor is a strided view (call <see cref="Contiguous"/> first).</exception>
    public ReadOnlySpan<T> AsReadOnlySpan<T>() where T : unmanaged => ContiguousElements<T>("AsReadOnlySpan");

    /// <summary>
    /// The elements of a contiguous tensor, in row-major order, for writing in place (no copy): what PyTorch code does
    /// with <c>p.data</c> or an in-place op under <c>torch.no_grad()</c>, e.g. an optimiser's update, gradient
    /// clipping or a weight constraint. Taking the span counts as an in-place modification: the storage version is
    /// bumped, so if this tensor (or a view of its storage) was saved for backward, <see cref="Backward"/> fails
    /// instead of computing a wrong gradient.
    /// </summary>
    /// <remarks>
    /// <para>As for every in-place op, a tensor that requires grad can only be written while grad mode is off (inside
    /// <see cref="Autograd.NoGrad"/>, as optimisers do); the write itself is not differentiable.</para>
    /// <para>The version is bumped when the span is taken, so write through it straight away: a tensor saved by an op
    /// that runs between taking the span and writing would not see the change. To read, use
    /// <see cref="AsReadOnlySpan{T}"/>, which does not count as a modification.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the tensor's element type; the
    /// tensor is a strided view (write a contiguous copy and <see cref="CopyFrom"/> it back); or grad mode is on
    /// and the tensor requires grad.</exception>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        var span = ContiguousElements<T>("AsSpan");
        MarkModifiedInPlace("AsSpan");
        return span;
    }

    private Span<T> ContiguousElements<T>(string op) where T : unmanaged
    {
        CheckType<T>(op);
        if (!IsContiguous)
            throw new InvalidOperationException($"{op} needs a contiguous tensor, but this one (shape {Shape}, strides {Shape.Format(_strides)}) is a strided view; call Contiguous() first");
        return Data<T>();
    }

    /// <summary>Span over [Offset, Offset + Numel) of storage, for contiguous tensors. Kernels use this.</summary>
    internal Span<T> Data<T>() where T : unmanaged
    {
        var array = ((Storage<T>)Storage).Array;
        if (array.Length < Offset + Numel)
            throw new ObjectDisposedException(nameof(Tensor), $"the storage of this tensor (shape {Shape}) was returned to the buffer pool when its MemoryScope ended; use MemoryScope.Keep or Clone() for tensors that outlive the scope");
        return array.AsSpan(Offset, Numel);
    }

    /// <summary>The whole backing array, for strided kernels that index with offsets and strides.</summary>
    internal T[] Array<T>() where T : unmanaged
    {
        var array = ((Storage<T>)Storage).Array;
        if (array.Length < Storage.Length)
            throw new ObjectDisposedException(nameof(Tensor), $"the storage of this tensor (shape {Shape}) was returned to the buffer pool when its MemoryScope ended; use MemoryScope.Keep or Clone() for tensors that outlive the scope");
        return array;
    }

    internal void CheckType<T>(string op) where T : unmanaged
    {
        var want = DTypeInfo.Of<T>();
        if (want != DType) throw new InvalidOperationException($"{op}<{typeof(T).Name}>: tensor has dtype {DType.Name()}, not {want.Name()}; convert with To(DType.{want})");
    }

    /// <summary>Copies the elements in row-major order, converting to <typeparamref name="T"/> if the dtype differs.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var t = DType == DTypeInfo.Of<T>() ? this : To(DTypeInfo.Of<T>());
        return t.Contiguous().Data<T>().ToArray();
    }

    /// <summary>The value of a one-element tensor as a double.</summary>
    public double Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item() needs a tensor with one element, but shape {Shape} has {Numel}");
        return StoredAsDouble(Offset);
    }

    /// <summary>The value of a one-element tensor as <typeparamref name="T"/> (which must match the dtype).</summary>
    public T Item<T>() where T : unmanaged
    {
        CheckType<T>("Item");
        if (Numel != 1) throw new InvalidOperationException($"Item() needs a tensor with one element, but shape {Shape} has {Numel}");
        return Array<T>()[Offset];
    }

    /// <summary>Storage index of the element at <paramref name="index"/>.</summary>
    internal int StorageIndex(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank) throw new ArgumentException($"index of rank {index.Length} for a tensor of shape {Shape}");
        int o = Offset;
        for (int i = 0; i < index.Length; i++)
        {
            int ix = index[i] < 0 ? index[i] + Shape[i] : index[i];
            if ((uint)ix >= (uint)Shape[i]) throw new IndexOutOfRangeException($"index {index[i]} is out of range for dimension {i} of size {Shape[i]} (shape {Shape})");
            o += ix * _strides[i];
        }
        return o;
    }

    /// <summary>Reads one element as a double (for tests and printing; not a hot path).</summary>
    public double GetDouble(params int[] index) => StoredAsDouble(StorageIndex(index));

    /// <summary>The storage element at <paramref name="storageIndex"/> as a double (true is 1).</summary>
    private double StoredAsDouble(int storageIndex) => DType switch
    {
        DType.Float32 => ((Storage<float>)Storage).Array[storageIndex],
        DType.Float64 => ((Storage<double>)Storage).Array[storageIndex],
        DType.Int32 => ((Storage<int>)Storage).Array[storageIndex],
        DType.Int64 => ((Storage<long>)Storage).Array[storageIndex],
        DType.UInt8 => ((Storage<byte>)Storage).Array[storageIndex],
        DType.Int8 => ((Storage<sbyte>)Storage).Array[storageIndex],
        DType.Bool => ((Storage<bool>)Storage).Array[storageIndex] ? 1 : 0,
        _ => throw new NotSupportedException(),
    };
}
