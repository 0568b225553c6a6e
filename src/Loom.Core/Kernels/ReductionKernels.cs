namespace Loom.Kernels;

/// <summary>
/// Reductions over the middle dimension of a contiguous [outer, reduce, inner] buffer (see <c>ReductionPlan</c>),
/// writing [outer, inner] results. Two shapes of loop cover every case without a strided scalar walk:
/// <list type="bullet">
/// <item>inner = 1 (reducing the last axes): each of the outer rows is one span, reduced by TensorPrimitives.</item>
/// <item>inner &gt; 1 (reducing leading or middle axes): whole rows of length inner are combined element-wise into the
/// output row, so the work stays vectorised along the kept inner dimension.</item>
/// </list>
/// Float32 sums accumulate in double (floats are loaded widened to double vectors), so a sum of millions of float32
/// values is rounded once, at the end, instead of drifting by ~n·ε; the widening keeps the loop as fast as the memory
/// feeding it. Float64 sums use TensorPrimitives directly.
/// The naive twins are in <see cref="Reference.ReferenceReductions"/>.
/// </summary>
internal static class ReductionKernels
{
    /// <summary>Elements per chunk when a row is transformed into scratch before being summed (variance, logsumexp).</summary>
    public const int SumBlock = 4096;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sum<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLayout(x.Length, outer, reduce, inner, destination.Length, "sum");
        int size = reduce * inner;
        for (int o = 0; o < outer; o++)
        {
            var block = x.Slice(o * size, size);
            if (inner == 1) destination[o] = RowSum(block);
            else SumRows(block, reduce, inner, destination.Slice(o * inner, inner));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mean<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Sum(x, outer, reduce, inner, destination);
        // Divide rather than multiply by 1/N: an empty reduction gives 0/0 = NaN, as PyTorch.
        TensorPrimitives.Divide(destination.Slice(0, outer * inner), T.CreateTruncating(reduce), destination);
    }

    /// <summary>Σ (x − mean)² / max(0, reduce − correction), by two passes (mean first) so that a large mean does not cancel the variance.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Variance<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, int correction, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        CenteredSum(x, outer, reduce, inner, destination, new SquaredDeviations<T>(T.CreateTruncating(reduce), T.CreateTruncating(Math.Max(0, reduce - correction))), "var");

    /// <summary>log Σ exp(x), computed as m + log Σ exp(x − m) with m the maximum (taken as 0 when infinite, as PyTorch, so that all −∞ gives −∞).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSumExp<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        CenteredSum(x, outer, reduce, inner, destination, new ExpsAboutMax<T>(), "logsumexp");

    /// <summary>
    /// The two two-pass reductions: a centre c per output (variance: the mean; logsumexp: the maximum, 0 where
    /// infinite), then the terms f(x − c) summed and finished (Σ (x − c)² / divisor, or c + log Σ exp(x − c)). With
    /// inner = 1 a row is transformed in chunks of <see cref="SumBlock"/> into scratch and the chunk sums add up in
    /// double; with inner &gt; 1 whole rows are combined element-wise.
    /// </summary>
    private static void CenteredSum<T, TReduction>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> destination, TReduction reduction, string op)
        where T : unmanaged, IFloatingPointIeee754<T> where TReduction : struct, ICenteredReduction<T>
    {
        CheckLayout(x.Length, outer, reduce, inner, destination.Length, op);
        int size = reduce * inner;
        var scratch = ArrayPool<T>.Shared.Rent(Math.Max(1, inner == 1 ? Math.Min(reduce, SumBlock) : 2 * inner));
        try
        {
            for (int o = 0; o < outer; o++)
            {
                var block = x.Slice(o * size, size);
                if (inner == 1)
                {
                    T c = reduction.Centre(block);
                    double sum = 0;
                    for (int i = 0; i < reduce; i += SumBlock)
                    {
                        var part = block.Slice(i, Math.Min(SumBlock, reduce - i));
                        var d = scratch.AsSpan(0, part.Length);
                        TensorPrimitives.Subtract(part, c, d);
                        sum += reduction.SumOfTerms(d);
                    }
                    destination[o] = reduction.Finish(c, sum);
                    continue;
                }
                var centre = scratch.AsSpan(0, inner);
                var diff = scratch.AsSpan(inner, inner);
                var dst = destination.Slice(o * inner, inner);
                reduction.Centres(block, reduce, inner, centre);
                dst.Clear();
                for (int r = 0; r < reduce; r++)
                {
                    TensorPrimitives.Subtract(block.Slice(r * inner, inner), centre, diff);
                    reduction.AddTerms(diff, dst);
                }
                reduction.Finish(centre, dst);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>What a <see cref="CenteredSum"/> reduction does at each of its steps, for one row and for rows side by side.</summary>
    private interface ICenteredReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The centre of one row.</summary>
        T Centre(ReadOnlySpan<T> row);

        /// <summary>The centre of each of the inner columns of a [reduce, inner] block.</summary>
        void Centres(ReadOnlySpan<T> block, int reduce, int inner, Span<T> centre);

        /// <summary>Σ f(d) over a chunk of d = x − c (d is scratch and may be overwritten), in double.</summary>
        double SumOfTerms(Span<T> d);

        /// <summary>sum += f(d) element-wise (d may be overwritten).</summary>
        void AddTerms(Span<T> d, Span<T> sum);

        /// <summary>The result of one row from its centre and its sum of terms.</summary>
        T Finish(T centre, double sum);

        /// <summary><paramref name="sum"/> replaced by the results of its columns.</summary>
        void Finish(ReadOnlySpan<T> centre, Span<T> sum);
    }

    /// <summary>Variance: the mean as the centre, f(d) = d², the sum divided by <paramref name="divisor"/>.</summary>
    private readonly struct SquaredDeviations<T>(T count, T divisor) : ICenteredReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Centre(ReadOnlySpan<T> row) => RowSum(row) / count;

        public void Centres(ReadOnlySpan<T> block, int reduce, int inner, Span<T> centre)
        {
            SumRows(block, reduce, inner, centre);
            TensorPrimitives.Divide(centre, count, centre);
        }

        public double SumOfTerms(Span<T> d) => double.CreateTruncating(TensorPrimitives.SumOfSquares<T>(d));

        public void AddTerms(Span<T> d, Span<T> sum) => TensorPrimitives.MultiplyAdd(d, d, sum, sum);

        public T Finish(T centre, double sum) => T.CreateTruncating(sum) / divisor;

        public void Finish(ReadOnlySpan<T> centre, Span<T> sum) => TensorPrimitives.Divide(sum, divisor, sum);
    }

    /// <summary>logsumexp: the maximum as the centre (0 where infinite), f(d) = exp d, then c + log of the sum.</summary>
    private readonly struct ExpsAboutMax<T> : ICenteredReduction<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Centre(ReadOnlySpan<T> row)
        {
            T c = row.IsEmpty ? T.NegativeInfinity : TensorPrimitives.Max(row);
            return T.IsInfinity(c) ? T.Zero : c;
        }

        public void Centres(ReadOnlySpan<T> block, int reduce, int inner, Span<T> centre)
        {
            if (reduce == 0)
            {
                centre.Fill(T.Zero);
                return;
            }
            ExtremeRows(block, reduce, inner, centre, max: true);
            for (int i = 0; i < inner; i++) if (T.IsInfinity(centre[i])) centre[i] = T.Zero;
        }

        public double SumOfTerms(Span<T> d)
        {
            ExpKernels.Exp(d, d);
            return double.CreateTruncating(TensorPrimitives.Sum<T>(d));
        }

        public void AddTerms(Span<T> d, Span<T> sum)
        {
            ExpKernels.Exp(d, d);
            TensorPrimitives.Add(sum, d, sum);
        }

        public T Finish(T centre, double sum) => centre + T.CreateTruncating(Math.Log(sum));

        public void Finish(ReadOnlySpan<T> centre, Span<T> sum)
        {
            TensorPrimitives.Log(sum, sum);
            TensorPrimitives.Add(sum, centre, sum);
        }
    }

    /// <summary>
    /// Maximum (or minimum) along the reduced dimension; NaN if any element is NaN. <paramref name="reduce"/> must be
    /// positive.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Extreme<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> destination, bool max) where T : unmanaged, INumber<T>
    {
        CheckExtreme(x.Length, outer, reduce, inner, destination.Length, max ? "max" : "min");
        int size = reduce * inner;
        for (int o = 0; o < outer; o++)
        {
            var block = x.Slice(o * size, size);
            if (inner == 1) destination[o] = max ? TensorPrimitives.Max(block) : TensorPrimitives.Min(block);
            else ExtremeRows(block, reduce, inner, destination.Slice(o * inner, inner), max);
        }
    }

    private static void ExtremeRows<T>(ReadOnlySpan<T> block, int reduce, int inner, Span<T> destination, bool max) where T : unmanaged, INumber<T>
    {
        block.Slice(0, inner).CopyTo(destination);
        for (int r = 1; r < reduce; r++)
        {
            var row = block.Slice(r * inner, inner);
            if (max) TensorPrimitives.Max(destination, row, destination);
            else TensorPrimitives.Min(destination, row, destination);
        }
    }

    /// <summary>
    /// Index of the maximum (or minimum) along the reduced dimension; the first on ties, the first NaN if there is one
    /// (as PyTorch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ArgExtreme<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<long> destination, bool max) where T : unmanaged, INumber<T>
    {
        CheckExtreme(x.Length, outer, reduce, inner, destination.Length, max ? "argmax" : "argmin");
        int size = reduce * inner;
        if (inner == 1)
        {
            // Two vectorised passes: the extreme value (NaN-propagating), then the first element equal to it.
            // TensorPrimitives.IndexOfMax is not used because it ranks +0 above −0, where PyTorch sees a tie.
            for (int o = 0; o < outer; o++)
            {
                var row = x.Slice(o * size, size);
                destination[o] = IndexOfFirst(row, max ? TensorPrimitives.Max(row) : TensorPrimitives.Min(row));
            }
            return;
        }
        var best = ArrayPool<T>.Shared.Rent(inner);
        try
        {
            for (int o = 0; o < outer; o++)
            {
                var block = x.Slice(o * size, size);
                var b = best.AsSpan(0, inner);
                var index = destination.Slice(o * inner, inner);
                block.Slice(0, inner).CopyTo(b);
                index.Clear();
                for (int r = 1; r < reduce; r++)
                {
                    var row = block.Slice(r * inner, inner);
                    for (int i = 0; i < inner; i++)
                    {
                        T v = row[i], cur = b[i];
                        bool better = max ? v > cur : v < cur;
                        if (better || (T.IsNaN(v) && !T.IsNaN(cur)))
                        {
                            b[i] = v;
                            index[i] = r;
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(best);
        }
    }

    /// <summary>Index of the first element equal to <paramref name="value"/> (of the first NaN when it is NaN); −1 if none.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static int IndexOfFirst<T>(ReadOnlySpan<T> row, T value, VectorWidth width = VectorWidth.Auto) where T : unmanaged, INumber<T>
    {
        return Simd.Run<T, int, IndexOfFirstKernel<T>>(new(row, value), Vector128<T>.IsSupported ? width : VectorWidth.Scalar);
    }

    private readonly ref struct IndexOfFirstKernel<T>(ReadOnlySpan<T> row, T value) : ISimdKernel<T, int> where T : unmanaged, INumber<T>
    {
        private readonly ReadOnlySpan<T> row = row;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run<TV, TS>() where TV : struct where TS : ISimd<TV, T>
        {
            bool nan = T.IsNaN(value);
            ref T start = ref MemoryMarshal.GetReference(row);
            nuint i = 0, n = (nuint)row.Length, w = (nuint)TS.Count;
            var target = TS.Create(value);
            for (; i + w <= n; i += w)
            {
                var v = TS.Load(in start, i);
                ulong hit = TS.MaskBits(nan ? TS.IsNaN(v) : TS.Equal(v, target));
                if (hit != 0) return (int)i + BitOperations.TrailingZeroCount(hit);
            }
            for (; i < n; i++)
            {
                T x = Unsafe.Add(ref start, i);
                if (nan ? T.IsNaN(x) : x == value) return (int)i;
            }
            return -1;
        }
    }

    /// <summary>Integer and boolean sums, accumulated in Int64 (the result dtype PyTorch gives them).</summary>
    public static void SumToInt64<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<long> destination) where T : unmanaged, IBinaryInteger<T>
    {
        CheckLayout(x.Length, outer, reduce, inner, destination.Length, "sum");
        int size = reduce * inner;
        for (int o = 0; o < outer; o++)
        {
            var block = x.Slice(o * size, size);
            var dst = destination.Slice(o * inner, inner);
            dst.Clear();
            for (int r = 0; r < reduce; r++)
            {
                var row = block.Slice(r * inner, inner);
                for (int i = 0; i < inner; i++) dst[i] += long.CreateTruncating(row[i]);
            }
        }
    }

    /// <summary>mask[i] = 1 where x[i] equals y[i] (NaN equal to NaN), else 0. Used by the backward of max and min.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void EqualMask<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> mask, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length != x.Length || mask.Length < x.Length) throw new ArgumentException("equal_mask: spans differ in length");
        Simd.For<T, BinaryMapStep<T, EqualOrBothNaN<T>>>(new(x, y, mask), x.Length, width);
    }

    private readonly struct EqualOrBothNaN<T> : ISimdBinaryMap<T> where T : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TS>(TV x, TV y) where TV : struct where TS : ISimd<TV, T> =>
            TS.And(TS.Or(TS.Equal(x, y), TS.And(TS.IsNaN(x), TS.IsNaN(y))), TS.One);
    }

    /// <summary>The sum of one row; float32 accumulates in double (see the class remarks).</summary>
    public static T RowSum<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return T.CreateTruncating(SumWidened(MemoryMarshal.Cast<T, float>(row)));
        return TensorPrimitives.Sum(row);
    }

    /// <summary>destination = Σ_r block[r, :] over <paramref name="reduce"/> rows of length <paramref name="inner"/> (float32 accumulates in double).</summary>
    public static void SumRows<T>(ReadOnlySpan<T> block, int reduce, int inner, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reduce == 0)
        {
            destination.Clear();
            return;
        }
        if (typeof(T) == typeof(float))
        {
            var accumulator = ArrayPool<double>.Shared.Rent(inner);
            try
            {
                var acc = accumulator.AsSpan(0, inner);
                acc.Clear();
                var rows = MemoryMarshal.Cast<T, float>(block);
                for (int r = 0; r < reduce; r++) AccumulateWidened(rows.Slice(r * inner, inner), acc);
                TensorPrimitives.ConvertTruncating<double, float>(acc, MemoryMarshal.Cast<T, float>(destination));
            }
            finally
            {
                ArrayPool<double>.Shared.Return(accumulator);
            }
            return;
        }
        block.Slice(0, inner).CopyTo(destination);
        for (int r = 1; r < reduce; r++) TensorPrimitives.Add(destination, block.Slice(r * inner, inner), destination);
    }

    /// <summary>Σ x in double precision: floats are widened a vector at a time into four double accumulators.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static double SumWidened(ReadOnlySpan<float> x, VectorWidth width = VectorWidth.Auto)
    {
        return Simd.Run<double, double, SumWidenedKernel>(new(x), width);
    }

    private readonly ref struct SumWidenedKernel(ReadOnlySpan<float> x) : ISimdKernel<double, double>
    {
        private readonly ReadOnlySpan<float> x = x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Run<TV, TS>() where TV : struct where TS : ISimd<TV, double>
        {
            ref float p = ref MemoryMarshal.GetReference(x);
            nuint i = 0, n = (nuint)x.Length, w = (nuint)TS.Count;
            TV a0 = TS.Zero, a1 = TS.Zero, a2 = TS.Zero, a3 = TS.Zero;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                a0 = TS.Add(a0, TS.LoadSingles(in p, i));
                a1 = TS.Add(a1, TS.LoadSingles(in p, i + w));
                a2 = TS.Add(a2, TS.LoadSingles(in p, i + 2 * w));
                a3 = TS.Add(a3, TS.LoadSingles(in p, i + 3 * w));
            }
            double total = TS.Sum(TS.Add(TS.Add(a0, a1), TS.Add(a2, a3)));
            for (; i < n; i++) total += Unsafe.Add(ref p, i);
            return total;
        }
    }

    /// <summary>accumulator[i] += x[i], widening float32 to double.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateWidened(ReadOnlySpan<float> x, Span<double> accumulator, VectorWidth width = VectorWidth.Auto)
    {
        if (accumulator.Length < x.Length) throw new ArgumentException("accumulate: the accumulator is shorter than the row");
        Simd.For<float, AccumulateWidenedStep>(new(x, accumulator), x.Length, width);
    }

    private readonly ref struct AccumulateWidenedStep(ReadOnlySpan<float> x, Span<double> accumulator) : ISimdStep<float>
    {
        private readonly ReadOnlySpan<float> x = x;
        private readonly Span<double> accumulator = accumulator;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, float> =>
            TS.AddWidened(TS.Load(in MemoryMarshal.GetReference(x), i), ref MemoryMarshal.GetReference(accumulator), i);
    }

    private static void CheckExtreme(int length, int outer, int reduce, int inner, int destinationLength, string op)
    {
        CheckLayout(length, outer, reduce, inner, destinationLength, op);
        if (reduce == 0 && outer * inner > 0) throw new ArgumentException($"{op}: cannot reduce over zero elements");
    }

    private static void CheckLayout(int length, int outer, int reduce, int inner, int destinationLength, string op)
    {
        if (outer < 0 || reduce < 0 || inner < 0 || (long)outer * reduce * inner != length)
            throw new ArgumentException($"{op}: a buffer of {length} elements is not [{outer}, {reduce}, {inner}]");
        if (destinationLength < (long)outer * inner)
            throw new ArgumentException($"{op}: destination of {destinationLength} elements is shorter than [{outer}, {inner}]");
    }
}
