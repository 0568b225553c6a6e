namespace Loom;

/// <summary>
/// The elements of a contiguous tensor as <see cref="Memory{T}"/>: unlike a span it can be captured by the lambdas
/// of a parallel loop, and each thread slices its own part.
/// </summary>
internal static class TensorMemoryExtensions
{
    public static ReadOnlyMemory<T> AsReadOnlyMemory<T>(this Tensor t) where T : unmanaged => new(t.Array<T>(), t.Offset, t.Numel);

    public static Memory<T> AsMemory<T>(this Tensor t) where T : unmanaged => new(t.Array<T>(), t.Offset, t.Numel);
}
