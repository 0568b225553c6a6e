namespace Loom.Kernels;

/// <summary>
/// Data-movement kernels behind joins, indexing, masks, triangles and sorting. Most problems are seen as
/// (outer, axis, inner): the dimensions before the axis flattened, the axis itself, the dimensions after it flattened,
/// so that "inner" elements are a unit-stride block that moves with one <see cref="Span{T}.CopyTo"/>.
/// Indices arrive already validated and converted to <see cref="int"/>; kernels do not bounds-check them beyond what
/// spans do.
/// </summary>
internal static class IndexingKernels
{
    /// <summary>
    /// Writes <paramref name="outer"/> blocks of <paramref name="block"/> elements from <paramref name="source"/> into
    /// <paramref name="destination"/>, block o at o·<paramref name="destinationStride"/> + <paramref name="offset"/>:
    /// one input's share of a concatenation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyBlocks<T>(ReadOnlySpan<T> source, int outer, int block, int destinationStride, int offset, Span<T> destination)
    {
        if (block == 0) return;
        if (outer == 1 || block == destinationStride)
        {
            source.Slice(0, outer * block).CopyTo(destination.Slice(offset, outer * block));
            return;
        }
        for (int o = 0; o < outer; o++)
            source.Slice(o * block, block).CopyTo(destination.Slice(o * destinationStride + offset, block));
    }

    /// <summary>destination[o, j, :] = source[o, index[j], :] for source (outer, axisSize, inner).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void IndexSelect<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> index, int outer, int axisSize, int inner, Span<T> destination)
    {
        int n = index.Length;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var row = source.Slice(o * axisSize, axisSize);
                var dst = destination.Slice(o * n, n);
                for (int j = 0; j < n; j++) dst[j] = row[index[j]];
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            int s = o * axisSize * inner, d = o * n * inner;
            for (int j = 0; j < n; j++)
                source.Slice(s + index[j] * inner, inner).CopyTo(destination.Slice(d + j * inner, inner));
        }
    }

    /// <summary>
    /// destination[o, index[j], :] += source[o, j, :] for destination (outer, axisSize, inner): the adjoint of
    /// <see cref="IndexSelect{T}"/>. Repeated indices accumulate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void IndexAdd<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> index, int outer, int axisSize, int inner, Span<T> destination)
        where T : INumberBase<T>
    {
        int n = index.Length;
        for (int o = 0; o < outer; o++)
        {
            int s = o * n * inner, d = o * axisSize * inner;
            if (inner == 1)
            {
                for (int j = 0; j < n; j++) destination[d + index[j]] += source[s + j];
                continue;
            }
            for (int j = 0; j < n; j++)
            {
                var dst = destination.Slice(d + index[j] * inner, inner);
                TensorPrimitives.Add(dst, source.Slice(s + j * inner, inner), dst);
            }
        }
    }

    /// <summary>
    /// torch.gather over an (outer, n, inner) index: destination[o, j, i] = source[outerOffsets[o] +
    /// index[o, j, i]·axisStride + innerOffsets[i]]. The offsets describe any strided source, including one larger
    /// than the index in the non-gathered dimensions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> outerOffsets, int axisStride, ReadOnlySpan<int> innerOffsets,
        ReadOnlySpan<int> index, Span<T> destination)
    {
        var gather = new GatherElement<T>(source, destination);
        ForEachIndexed(outerOffsets, axisStride, innerOffsets, index, ref gather);
    }

    /// <summary>
    /// The adjoint of <see cref="Gather{T}"/>: destination[outerOffsets[o] + index[o, j, i]·axisStride +
    /// innerOffsets[i]] += source[o, j, i]. Repeated indices accumulate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScatterAdd<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> index, ReadOnlySpan<int> outerOffsets, int axisStride,
        ReadOnlySpan<int> innerOffsets, Span<T> destination) where T : INumberBase<T>
    {
        var scatter = new ScatterAddElement<T>(source, destination);
        ForEachIndexed(outerOffsets, axisStride, innerOffsets, index, ref scatter);
    }

    /// <summary>What gather and scatter-add do with element e of the index and the offset it points at.</summary>
    private interface IIndexedElement
    {
        void At(int e, int offset);
    }

    private readonly ref struct GatherElement<T>(ReadOnlySpan<T> source, Span<T> destination) : IIndexedElement
    {
        private readonly ReadOnlySpan<T> source = source;
        private readonly Span<T> destination = destination;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At(int e, int offset) => destination[e] = source[offset];
    }

    private readonly ref struct ScatterAddElement<T>(ReadOnlySpan<T> source, Span<T> destination) : IIndexedElement where T : INumberBase<T>
    {
        private readonly ReadOnlySpan<T> source = source;
        private readonly Span<T> destination = destination;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void At(int e, int offset) => destination[offset] += source[e];
    }

    /// <summary>Visits every element e = (o, j, i) of an (outer, n, inner) index with offset outerOffsets[o] + index[e]·axisStride + innerOffsets[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForEachIndexed<TElement>(ReadOnlySpan<int> outerOffsets, int axisStride, ReadOnlySpan<int> innerOffsets, ReadOnlySpan<int> index,
        ref TElement element) where TElement : IIndexedElement, allows ref struct
    {
        int inner = innerOffsets.Length;
        if (inner == 0 || outerOffsets.Length == 0) return;
        int n = index.Length / (outerOffsets.Length * inner);
        int e = 0;
        for (int o = 0; o < outerOffsets.Length; o++)
        {
            int baseOffset = outerOffsets[o];
            if (inner == 1)
            {
                // The common 1-D case without the inner loop.
                for (int j = 0; j < n; j++, e++) element.At(e, baseOffset + index[e] * axisStride + innerOffsets[0]);
                continue;
            }
            for (int j = 0; j < n; j++)
                for (int i = 0; i < inner; i++, e++) element.At(e, baseOffset + index[e] * axisStride + innerOffsets[i]);
        }
    }

    /// <summary>How many elements of <paramref name="mask"/> are true.</summary>
    public static int CountTrue(ReadOnlySpan<bool> mask) =>
        // Bools are bytes; counting the zero bytes is vectorised by the runtime and does not assume true is 1.
        mask.Length - MemoryMarshal.AsBytes(mask).Count((byte)0);

    /// <summary>Copies source[i] for every true mask[i], in order, into <paramref name="destination"/>, which holds exactly that many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskedSelect<T>(ReadOnlySpan<T> source, ReadOnlySpan<bool> mask, Span<T> destination)
    {
        // Branch-free compaction: always write, advance only past kept elements. A random mask would mispredict a
        // branch half the time; the bound check on k is taken only once, after the last kept element.
        int k = 0;
        for (int i = 0; i < source.Length && k < destination.Length; i++)
        {
            destination[k] = source[i];
            k += mask[i] ? 1 : 0;
        }
    }

    /// <summary>
    /// The inverse of <see cref="MaskedSelect{T}"/>: destination[i] = source[k++] for every true mask[i]; other
    /// elements of <paramref name="destination"/> are left as they are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskedScatter<T>(ReadOnlySpan<T> source, ReadOnlySpan<bool> mask, Span<T> destination)
    {
        int k = 0;
        for (int i = 0; i < mask.Length; i++)
            if (mask[i]) destination[i] = source[k++];
    }

    /// <summary>
    /// destination[i] = mask[i mod mask.Length] ? value : source[i]. The mask repeats over the source, which covers a
    /// mask broadcast over leading dimensions (a causal [T, T] mask over [B, H, T, T] scores) without expanding it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskedFill<T>(ReadOnlySpan<T> source, ReadOnlySpan<bool> mask, T value, Span<T> destination, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged
    {
        int period = mask.Length;
        if (period == 0) return;
        var maskBytes = MemoryMarshal.AsBytes(mask);
        for (int start = 0; start < source.Length; start += period)
        {
            var src = source.Slice(start, period);
            var dst = destination.Slice(start, period);
            switch (Unsafe.SizeOf<T>())
            {
                // The select only moves bits, so every dtype of a width shares one integer path.
                case 1: Fill(MemoryMarshal.Cast<T, byte>(src), maskBytes, Unsafe.As<T, byte>(ref value), MemoryMarshal.Cast<T, byte>(dst), width); break;
                case 4: Fill(MemoryMarshal.Cast<T, int>(src), maskBytes, Unsafe.As<T, int>(ref value), MemoryMarshal.Cast<T, int>(dst), width); break;
                case 8: Fill(MemoryMarshal.Cast<T, long>(src), maskBytes, Unsafe.As<T, long>(ref value), MemoryMarshal.Cast<T, long>(dst), width); break;
                default: throw new NotSupportedException($"masked_fill: no kernel for {Unsafe.SizeOf<T>()}-byte elements");
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Fill<T>(ReadOnlySpan<T> source, ReadOnlySpan<byte> mask, T value, Span<T> destination, VectorWidth width)
        where T : unmanaged, IBinaryInteger<T>
    {
        Simd.For<T, MaskedFillStep<T>>(new(source, mask, value, destination), mask.Length, width);
    }

    /// <summary>
    /// destination[i] = mask[i] != 0 ? value : source[i]. Mask bytes are zero-extended to the element width
    /// (vpmovzx) and compared with zero, so any non-zero byte counts as true.
    /// </summary>
    private readonly ref struct MaskedFillStep<T>(ReadOnlySpan<T> source, ReadOnlySpan<byte> mask, T value, Span<T> destination)
        : ISimdStep<T> where T : unmanaged
    {
        private readonly ReadOnlySpan<T> source = source;
        private readonly ReadOnlySpan<byte> mask = mask;
        private readonly Span<T> destination = destination;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            var keep = TS.Equal(TS.LoadBytes(in MemoryMarshal.GetReference(mask), i), TS.Zero);
            TS.Store(TS.Select(keep, TS.Load(in MemoryMarshal.GetReference(source), i), TS.Create(value)), ref MemoryMarshal.GetReference(destination), i);
        }
    }

    /// <summary>How many elements of <paramref name="source"/> are not zero (NaN counts as non-zero).</summary>
    public static int CountNonzero<T>(ReadOnlySpan<T> source) where T : unmanaged, IEquatable<T> => source.Length - source.Count(default(T));

    /// <summary>
    /// Writes the row-major coordinates of every non-zero element of a contiguous tensor of <paramref name="shape"/>
    /// as rows of <paramref name="destination"/> (count × rank).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Nonzero<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> shape, Span<long> destination) where T : unmanaged, IEquatable<T>
    {
        int rank = shape.Length;
        Span<int> coordinate = stackalloc int[rank];
        int k = 0;
        for (int i = 0; i < source.Length; i++)
        {
            if (!source[i].Equals(default))
            {
                for (int a = 0; a < rank; a++) destination[k + a] = coordinate[a];
                k += rank;
            }
            for (int a = rank - 1; a >= 0; a--)
            {
                if (++coordinate[a] < shape[a]) break;
                coordinate[a] = 0;
            }
        }
    }

    /// <summary>
    /// Keeps the lower (tril) or upper (triu) triangle of each of <paramref name="batch"/> row-major
    /// rows × cols matrices and zeroes the rest. Element (r, c) is kept when c − r ≤ diagonal (tril) or
    /// c − r ≥ diagonal (triu). <paramref name="source"/> and <paramref name="destination"/> may be the same span.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Triangle<T>(ReadOnlySpan<T> source, int batch, int rows, int cols, int diagonal, bool upper, Span<T> destination)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int r = 0; r < rows; r++)
            {
                int start = (b * rows + r) * cols;
                var src = source.Slice(start, cols);
                var dst = destination.Slice(start, cols);
                // Columns [0, split) are one side of the diagonal, [split, cols) the other.
                int split = (int)Math.Clamp((long)r + diagonal + (upper ? 0 : 1), 0, cols);
                if (upper)
                {
                    dst.Slice(0, split).Clear();
                    src.Slice(split).CopyTo(dst.Slice(split));
                }
                else
                {
                    src.Slice(0, split).CopyTo(dst.Slice(0, split));
                    dst.Slice(split).Clear();
                }
            }
        }
    }

    // ------------------------------------------------------------------ sorting

    /// <summary>
    /// Sorts each of the outer × inner rows of a contiguous (outer, axisSize, inner) source along the axis, writing
    /// sorted values and their positions. Stable: equal values keep their order. NaN sorts above +∞ (last ascending,
    /// first descending) and −0 equals +0, as in PyTorch.
    /// </summary>
    public static void Sort<T>(ReadOnlySpan<T> source, int outer, int axisSize, int inner, bool descending, Span<T> values, Span<long> indices)
        where T : unmanaged =>
        TopK(source, outer, axisSize, inner, axisSize, largest: descending, sorted: true, values, indices);

    /// <summary>
    /// The <paramref name="k"/> smallest (or largest) elements of each row along the axis of a contiguous
    /// (outer, axisSize, inner) source, written as (outer, k, inner) values and positions. With
    /// <paramref name="sorted"/> they come in order (ties by position); without, in no particular order.
    /// </summary>
    public static void TopK<T>(ReadOnlySpan<T> source, int outer, int axisSize, int inner, int k, bool largest, bool sorted,
        Span<T> values, Span<long> indices) where T : unmanaged
    {
        if (k == 0 || outer * inner == 0) return;
        var keys = ArrayPool<ulong>.Shared.Rent(2 * axisSize);
        var order = ArrayPool<int>.Shared.Rent(2 * axisSize);
        try
        {
            var row = new RowBuffers(keys.AsSpan(0, 2 * axisSize), order.AsSpan(0, 2 * axisSize));
            for (int o = 0; o < outer; o++)
            {
                for (int i = 0; i < inner; i++)
                {
                    int inBase = o * axisSize * inner + i, outBase = o * k * inner + i;
                    SortRow(source, inBase, inner, axisSize, k, largest, sorted, row);
                    for (int j = 0; j < k; j++)
                    {
                        int at = row.Order[j];
                        values[outBase + j * inner] = source[inBase + at * inner];
                        indices[outBase + j * inner] = at;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>Scratch for one row: (key, position) pairs and as much again for the radix sort's ping-pong.</summary>
    private readonly ref struct RowBuffers(Span<ulong> keys, Span<int> order)
    {
        public Span<ulong> Keys { get; } = keys[..(keys.Length / 2)];
        public Span<int> Order { get; } = order[..(order.Length / 2)];
        public Span<ulong> KeyScratch { get; } = keys[(keys.Length / 2)..];
        public Span<int> OrderScratch { get; } = order[(order.Length / 2)..];
    }

    /// <summary>
    /// Puts into row.Order[..k] the positions of the row's first k elements in (key, position) order. Every path
    /// breaks ties by position, so results are deterministic and the sort is stable.
    /// </summary>
    /// <remarks>
    /// Comparison sorts and quickselect branch on the data, and on random rows half those branches mispredict. So:
    /// small k uses a heap of the k best, which a new element enters only when it beats the heap's worst (rare after
    /// the first few hundred, so the branch predicts well); full sorts of long rows use an LSD radix sort, which does
    /// not compare at all and is stable by construction.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SortRow<T>(ReadOnlySpan<T> source, int start, int stride, int n, int k, bool largest, bool sorted, RowBuffers row)
        where T : unmanaged
    {
        var keys = row.Keys.Slice(0, n);
        var order = row.Order.Slice(0, n);
        // Keys of narrow types use only their low bytes; descending order complements just those.
        int keyBytes = Unsafe.SizeOf<T>();
        ulong flip = largest ? (keyBytes == 8 ? ulong.MaxValue : (1UL << (8 * keyBytes)) - 1) : 0;
        for (int j = 0; j < n; j++)
        {
            keys[j] = OrderKey(source[start + j * stride]) ^ flip;
            order[j] = j;
        }
        if (k <= n / 8)
        {
            HeapSelect(keys, order, k);
            if (sorted) ComparisonSort(keys.Slice(0, k), order.Slice(0, k));
        }
        else if (n >= RadixSortMinLength)
        {
            RadixSort(keys, order, row.KeyScratch.Slice(0, n), row.OrderScratch.Slice(0, n), keyBytes);
        }
        else
        {
            ComparisonSort(keys, order);
        }
    }

    /// <summary>Below this length a comparison sort beats the radix sort's per-pass histogram of 256 buckets.</summary>
    internal const int RadixSortMinLength = 256;

    /// <summary>(key, position) order: by key, then by position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(ulong keyA, int positionA, ulong keyB, int positionB) =>
        keyA < keyB || (keyA == keyB && positionA < positionB);

    /// <summary>
    /// Leaves the k first (key, position) pairs in keys[..k] and order[..k], as a max-heap (no useful order).
    /// Positions must ascend (order[j] = j), as SortRow lays them out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void HeapSelect(Span<ulong> keys, Span<int> order, int k)
    {
        for (int i = k / 2 - 1; i >= 0; i--) SiftDown(keys, order, i, k);
        for (int j = k; j < keys.Length; j++)
        {
            // A later position loses every tie, so one key compare decides entry.
            if (keys[j] >= keys[0]) continue;
            keys[0] = keys[j];
            order[0] = order[j];
            SiftDown(keys, order, 0, k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SiftDown(Span<ulong> keys, Span<int> order, int i, int count)
    {
        while (true)
        {
            int worst = i, left = 2 * i + 1, right = left + 1;
            if (left < count && Before(keys[worst], order[worst], keys[left], order[left])) worst = left;
            if (right < count && Before(keys[worst], order[worst], keys[right], order[right])) worst = right;
            if (worst == i) return;
            (keys[i], keys[worst]) = (keys[worst], keys[i]);
            (order[i], order[worst]) = (order[worst], order[i]);
            i = worst;
        }
    }

    /// <summary>Sorts pairs by (key, position): an introsort by key, then position order restored within runs of equal keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ComparisonSort(Span<ulong> keys, Span<int> order)
    {
        keys.Sort(order);
        for (int run = 0; run < keys.Length;)
        {
            int end = run + 1;
            while (end < keys.Length && keys[end] == keys[run]) end++;
            if (end - run > 1) order.Slice(run, end - run).Sort();
            run = end;
        }
    }

    /// <summary>
    /// Stable LSD radix sort of pairs by the low <paramref name="keyBytes"/> bytes of their keys, one byte per pass;
    /// a pass whose byte is the same for every key is skipped. Stability keeps equal keys in position order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RadixSort(Span<ulong> keys, Span<int> order, Span<ulong> keyScratch, Span<int> orderScratch, int keyBytes)
    {
        int n = keys.Length;
        Span<int> offsets = stackalloc int[256];
        Span<ulong> fromKeys = keys, toKeys = keyScratch;
        Span<int> fromOrder = order, toOrder = orderScratch;
        for (int shift = 0; shift < 8 * keyBytes; shift += 8)
        {
            offsets.Clear();
            for (int i = 0; i < n; i++) offsets[(int)(fromKeys[i] >> shift) & 0xFF]++;
            if (offsets[(int)(fromKeys[0] >> shift) & 0xFF] == n) continue;
            for (int b = 0, sum = 0; b < 256; b++)
            {
                int count = offsets[b];
                offsets[b] = sum;
                sum += count;
            }
            for (int i = 0; i < n; i++)
            {
                int at = offsets[(int)(fromKeys[i] >> shift) & 0xFF]++;
                toKeys[at] = fromKeys[i];
                toOrder[at] = fromOrder[i];
            }
            var k = fromKeys;
            fromKeys = toKeys;
            toKeys = k;
            var o = fromOrder;
            fromOrder = toOrder;
            toOrder = o;
        }
        if (fromKeys != keys)
        {
            fromKeys.CopyTo(keys);
            fromOrder.CopyTo(order);
        }
    }

    /// <summary>
    /// A ulong whose unsigned order is the value order of <typeparamref name="T"/>: floats flip the sign bit (and
    /// every other bit when negative), signed integers flip the sign bit. A type of b bytes uses only the low b bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong OrderKey<T>(T value) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            // Branch-free: the sign is random in real data, and a branch on it mispredicts half the time.
            // Adding +0 turns −0 into +0 (IEEE round-to-nearest), so the two tie.
            float f = Unsafe.As<T, float>(ref value) + 0f;
            if (float.IsNaN(f)) return uint.MaxValue; // all NaNs tie above +inf
            uint bits = BitConverter.SingleToUInt32Bits(f);
            return bits ^ ((uint)((int)bits >> 31) | 0x8000_0000u);
        }
        if (typeof(T) == typeof(double))
        {
            double d = Unsafe.As<T, double>(ref value) + 0d;
            if (double.IsNaN(d)) return ulong.MaxValue;
            ulong bits = BitConverter.DoubleToUInt64Bits(d);
            return bits ^ ((ulong)((long)bits >> 63) | 0x8000_0000_0000_0000UL);
        }
        if (typeof(T) == typeof(int)) return (uint)Unsafe.As<T, int>(ref value) ^ 0x8000_0000u;
        if (typeof(T) == typeof(long)) return (ulong)Unsafe.As<T, long>(ref value) ^ 0x8000_0000_0000_0000UL;
        if (typeof(T) == typeof(byte)) return Unsafe.As<T, byte>(ref value);
        if (typeof(T) == typeof(sbyte)) return (byte)(Unsafe.As<T, sbyte>(ref value) ^ unchecked((sbyte)0x80));
        if (typeof(T) == typeof(bool)) return Unsafe.As<T, bool>(ref value) ? 1UL : 0UL;
        throw new NotSupportedException($"sort: no ordering for elements of type {typeof(T).Name}");
    }
}
