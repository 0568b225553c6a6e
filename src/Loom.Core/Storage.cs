namespace Loom;

/// <summary>
/// A flat, typed buffer that one or more tensors view. Views share a storage and so share its
/// <see cref="Version"/>: an in-place write through any view bumps it, which is how autograd detects that a tensor
/// saved for backward has changed (see docs/notes/autograd.md).
/// </summary>
public abstract class Storage
{
    private protected Storage(DType dtype, int length)
    {
        DType = dtype;
        Length = length;
    }

    public DType DType { get; }

    /// <summary>Elements in use. The backing array may be longer when it came from the buffer pool.</summary>
    public int Length { get; }

    /// <summary>Incremented by every in-place write.</summary>
    public int Version { get; private set; }

    internal void BumpVersion() => Version++;

    /// <summary>The backing array (float[], double[], int[], long[], byte[], sbyte[] or bool[]).</summary>
    public abstract Array RawArray { get; }

    /// <summary>A new storage of <paramref name="length"/> zeroed elements of <paramref name="dtype"/>.</summary>
    public static Storage Allocate(DType dtype, int length, bool zeroed = true) => dtype switch
    {
        DType.Float32 => Storage<float>.Allocate(length, zeroed),
        DType.Float64 => Storage<double>.Allocate(length, zeroed),
        DType.Int32 => Storage<int>.Allocate(length, zeroed),
        DType.Int64 => Storage<long>.Allocate(length, zeroed),
        DType.UInt8 => Storage<byte>.Allocate(length, zeroed),
        DType.Int8 => Storage<sbyte>.Allocate(length, zeroed),
        DType.Bool => Storage<bool>.Allocate(length, zeroed),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Returns the array to the buffer pool. Only a <see cref="Memory.MemoryScope"/> calls this, for storages it allocated.</summary>
    internal abstract void ReturnToPool();
}

/// <summary>A storage of elements of CLR type <typeparamref name="T"/>.</summary>
public sealed class Storage<T> : Storage where T : unmanaged
{
    private T[] _array;

    internal Storage(T[] array, int length) : base(DTypeInfo.Of<T>(), length)
    {
        if (length > array.Length) throw new ArgumentException("storage length exceeds its array");
        _array = array;
    }

    /// <summary>Wraps an existing array without copying; the tensor and the caller then share it.</summary>
    public static Storage<T> Wrap(T[] array) => new(array, array.Length);

    internal static Storage<T> Allocate(int length, bool zeroed)
    {
        var array = Memory.BufferPool<T>.Rent(length, out bool fromPool);
        if (zeroed && fromPool) System.Array.Clear(array, 0, length);
        var storage = new Storage<T>(array, length);
        Memory.MemoryScope.Track(storage, fromPool || array.Length >= Memory.BufferPool<T>.MinPooledLength);
        return storage;
    }

    /// <summary>The backing array. Its length may exceed <see cref="Storage.Length"/>.</summary>
    public T[] Array => _array;

    public override Array RawArray => _array;

    public Span<T> Span => _array.AsSpan(0, Length);

    internal override void ReturnToPool()
    {
        var array = _array;
        _array = [];
        Memory.BufferPool<T>.Return(array);
    }
}
