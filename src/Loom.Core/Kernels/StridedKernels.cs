namespace Loom.Kernels;

/// <summary>
/// Walks strided layouts in row-major order. A "row" is the innermost dimension; kernels that accept any layout
/// handle a row at a time, which keeps the common unit-stride case on a span.
/// </summary>
internal static class StridedKernels
{
    /// <summary>Copies the elements of a strided view (of <paramref name="shape"/>) in row-major order into <paramref name="destination"/>.</summary>
    public static void Gather<T>(ReadOnlySpan<T> source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<T> destination)
        where T : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            destination[0] = source[offset];
            return;
        }
        int inner = shape[rank - 1], innerStride = strides[rank - 1];
        int rows = RowCount(shape);
        if (rows == 0 || inner == 0) return;
        if (IsTransposed(shape, strides))
        {
            GatherTransposed(source, offset, shape, strides, destination);
            return;
        }
        Span<int> index = stackalloc int[rank];
        int o = offset, d = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = destination.Slice(d, inner);
            if (innerStride == 1) source.Slice(o, inner).CopyTo(row);
            else if (innerStride == 0) row.Fill(source[o]);
            else for (int j = 0; j < inner; j++) row[j] = source[o + j * innerStride];
            d += inner;
            o = Advance(index, shape, strides, o);
        }
    }

    /// <summary>
    /// The last two axes swapped: unit stride along the second-to-last and a larger one along the last, as in
    /// <c>x.Transpose(-2, -1)</c>. Reading such rows element by element strides through memory; tiles do not.
    /// </summary>
    internal static bool IsTransposed(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int rank = shape.Length;
        return rank >= 2 && strides[rank - 2] == 1 && shape[rank - 2] > 1 && shape[rank - 1] > 1 && Math.Abs(strides[rank - 1]) > 1;
    }

    /// <summary>
    /// The storage offset of every position of a block of <paramref name="dims"/> laid out with
    /// <paramref name="strides"/> from <paramref name="start"/>, in row-major order (an odometer over the axes):
    /// offsets[0 … Π dims − 1].
    /// </summary>
    public static void Offsets(ReadOnlySpan<int> dims, ReadOnlySpan<int> strides, int start, Span<int> offsets)
    {
        int count = 1;
        foreach (var d in dims) count *= d;
        Span<int> coordinate = stackalloc int[dims.Length];
        int o = start;
        for (int e = 0; e < count; e++)
        {
            offsets[e] = o;
            for (int a = dims.Length - 1; a >= 0; a--)
            {
                o += strides[a];
                if (++coordinate[a] < dims[a]) break;
                o -= strides[a] * dims[a];
                coordinate[a] = 0;
            }
        }
    }

    /// <summary>Gather of a view for which <see cref="IsTransposed"/> holds: a batch of cache-blocked matrix transposes.</summary>
    private static void GatherTransposed<T>(ReadOnlySpan<T> source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<T> destination)
        where T : unmanaged
    {
        int rank = shape.Length;
        var lead = shape[..^2];
        int matrices = 1;
        foreach (var d in lead) matrices *= d;
        int[]? rented = matrices > 256 ? System.Buffers.ArrayPool<int>.Shared.Rent(matrices) : null;
        Span<int> offsets = rented is null ? stackalloc int[matrices] : rented.AsSpan(0, matrices);
        try
        {
            Offsets(lead, strides[..^2], offset, offsets); // each matrix's first element
            TransposeKernels.Gather(source, offsets, shape[rank - 2], shape[rank - 1], strides[rank - 1], destination);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>Writes <paramref name="source"/> (row-major) into the strided view described by offset/shape/strides.</summary>
    public static void Scatter<T>(ReadOnlySpan<T> source, Span<T> destination, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            destination[offset] = source[0];
            return;
        }
        int inner = shape[rank - 1], innerStride = strides[rank - 1];
        int rows = RowCount(shape);
        if (rows == 0 || inner == 0) return;
        Span<int> index = stackalloc int[rank];
        int o = offset, s = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = source.Slice(s, inner);
            if (innerStride == 1) row.CopyTo(destination.Slice(o, inner));
            else for (int j = 0; j < inner; j++) destination[o + j * innerStride] = row[j];
            s += inner;
            o = Advance(index, shape, strides, o);
        }
    }

    /// <summary>Storage offset of the first element of each row, in row-major order.</summary>
    public static void RowOffsets(int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Span<int> offsets)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            offsets[0] = offset;
            return;
        }
        Span<int> index = stackalloc int[rank];
        int o = offset;
        for (int r = 0; r < offsets.Length; r++)
        {
            offsets[r] = o;
            o = Advance(index, shape, strides, o);
        }
    }

    /// <summary>Number of innermost rows: the product of all dimensions but the last (1 for rank ≤ 1).</summary>
    public static int RowCount(ReadOnlySpan<int> shape)
    {
        int rows = 1;
        for (int i = 0; i < shape.Length - 1; i++) rows *= shape[i];
        return rows;
    }

    // Odometer increment over every dimension but the innermost; returns the next row's storage offset.
    private static int Advance(Span<int> index, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, int o)
    {
        for (int ax = shape.Length - 2; ax >= 0; ax--)
        {
            index[ax]++;
            o += strides[ax];
            if (index[ax] < shape[ax]) return o;
            o -= strides[ax] * shape[ax];
            index[ax] = 0;
        }
        return o;
    }
}
