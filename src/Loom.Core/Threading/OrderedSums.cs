namespace Loom.Threading;

/// <summary>
/// Per-range partial sums of a <see cref="ParallelHelper.For(int, int, Action{int, int})"/> loop, added into the
/// total in range order once the loop is done. Adding them under a lock as each range finished made a result with
/// three or more ranges depend on which thread finished first (float addition does not associate), so the same
/// training step gave other weight gradients from run to run.
/// </summary>
internal sealed class OrderedSums<T>(int length) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<(int Start, T[] Sums)> _ranges = [];

    /// <summary>A cleared buffer of the sums' length for the range starting at <paramref name="start"/>.</summary>
    public Span<T> Rent(int start)
    {
        var sums = ArrayPool<T>.Shared.Rent(length);
        lock (_ranges) _ranges.Add((start, sums));
        var span = sums.AsSpan(0, length);
        span.Clear();
        return span;
    }

    /// <summary>Adds every range's sums into <paramref name="total"/> in order of their start, and returns the buffers.</summary>
    public void AddInto(Span<T> total)
    {
        _ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        foreach (var (_, sums) in _ranges)
        {
            TensorPrimitives.Add<T>(total, sums.AsSpan(0, length), total);
            ArrayPool<T>.Shared.Return(sums);
        }
        _ranges.Clear();
    }
}
