namespace Loom.Kernels;

/// <summary>
/// Drivers that apply an element-wise operator to tensors of any layout, writing a contiguous result.
/// </summary>
/// <remarks>
/// Fast paths, in order:
/// <list type="number">
/// <item>all operands contiguous with the result's shape: one flat span call (TensorPrimitives), split across threads
/// when large;</item>
/// <item>otherwise the operands are viewed at the result's shape (stride 0 on broadcast dimensions), dimensions that
/// are laid out alike in every operand are merged (<see cref="BroadcastPlan"/>), and the innermost dimension is
/// processed a row at a time: a unit-stride row is a span, a stride-0 row is a scalar (the bias-add case becomes one
/// span-scalar or span-span call per row), any other stride is gathered into a scratch row first.</item>
/// </list>
/// </remarks>
internal static class BroadcastKernels
{
    /// <summary>Elements per thread below which a dispatch to another thread does not pay (~2·L2 traffic of a row).</summary>
    internal const int ParallelGrain = 1 << 17;

    /// <summary>destination = op(x) element-wise; <paramref name="x"/> has the destination's shape (any strides).</summary>
    public static void Unary<T, TOp>(Tensor x, Tensor destination, TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T>
    {
        int n = destination.Numel;
        if (n == 0) return;
        if (x.IsContiguous)
        {
            // Static lambdas over a state tuple: a small op's fast path allocates no closure or delegate.
            ParallelHelper.For(n, ParallelGrain, (Op: op, X: x.Array<T>(), XOffset: x.Offset, D: destination.Array<T>(), DOffset: destination.Offset),
                static (s, start, end) => s.Op.Invoke(s.X.AsSpan(s.XOffset + start, end - start), s.D.AsSpan(s.DOffset + start, end - start)));
            return;
        }
        UnaryStrided<T, TOp>(x, destination, op);
    }

    /// <summary>destination = f(x) for a span function f (<see cref="UnaryFunctions{T}"/>).</summary>
    public static void Unary<T>(Tensor x, Tensor destination, SpanFunction<T> function) where T : unmanaged =>
        Unary<T, SpanFunction<T>>(x, destination, function);

    private static void UnaryStrided<T, TOp>(Tensor x, Tensor destination, TOp op) where T : unmanaged where TOp : struct, IUnaryOperator<T>
    {
        var plan = new BroadcastPlan(destination.Shape, x);
        var xa = x.Array<T>();
        var da = destination.Array<T>();
        int inner = plan.Inner, doff = destination.Offset;
        ParallelHelper.For(plan.Rows, RowGrain(inner), (r0, r1) =>
        {
            var cursor = plan.Seek(r0);
            int sx = plan.InnerStride(0);
            T[]? scratch = sx > 1 || sx < 0 ? ArrayPool<T>.Shared.Rent(inner) : null;
            try
            {
                for (int r = r0; r < r1; r++)
                {
                    var d = da.AsSpan(doff + r * inner, inner);
                    int o = cursor.Offset(0);
                    if (sx == 1) op.Invoke(xa.AsSpan(o, inner), d);
                    else if (sx == 0)
                    {
                        op.Invoke(xa.AsSpan(o, 1), d[..1]);
                        d.Fill(d[0]);
                    }
                    else
                    {
                        var row = scratch.AsSpan(0, inner);
                        GatherRow<T>(xa, o, sx, row);
                        op.Invoke(row, d);
                    }
                    cursor.Next();
                }
            }
            finally
            {
                if (scratch is not null) ArrayPool<T>.Shared.Return(scratch);
            }
        });
    }

    /// <summary>
    /// destination = op(x, y) element-wise with broadcasting; both operands must broadcast to the destination's shape.
    /// The destination may be <paramref name="x"/> itself (an in-place op): each element is read before it is written.
    /// </summary>
    public static void Binary<T, TOp>(Tensor x, Tensor y, Tensor destination) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        int n = destination.Numel;
        if (n == 0) return;
        var shape = destination.Shape;
        bool xFlat = x.Shape == shape && x.IsContiguous, yFlat = y.Shape == shape && y.IsContiguous;
        // The flat cases pass their arrays as state to static lambdas: no closure or delegate per call.
        var state = (X: x.Array<T>(), XOffset: x.Offset, Y: y.Array<T>(), YOffset: y.Offset, D: destination.Array<T>(), DOffset: destination.Offset);
        if (xFlat && yFlat)
        {
            ParallelHelper.For(n, ParallelGrain, state, static (s, start, end) =>
                TOp.Invoke(s.X.AsSpan(s.XOffset + start, end - start), s.Y.AsSpan(s.YOffset + start, end - start), s.D.AsSpan(s.DOffset + start, end - start)));
            return;
        }
        if (xFlat && y.Numel == 1)
        {
            ParallelHelper.For(n, ParallelGrain, state, static (s, start, end) =>
                TOp.Invoke(s.X.AsSpan(s.XOffset + start, end - start), s.Y[s.YOffset], s.D.AsSpan(s.DOffset + start, end - start)));
            return;
        }
        if (yFlat && x.Numel == 1)
        {
            ParallelHelper.For(n, ParallelGrain, state, static (s, start, end) =>
                TOp.Invoke(s.X[s.XOffset], s.Y.AsSpan(s.YOffset + start, end - start), s.D.AsSpan(s.DOffset + start, end - start)));
            return;
        }
        BinaryStrided<T, TOp>(x, y, destination);
    }

    private static void BinaryStrided<T, TOp>(Tensor x, Tensor y, Tensor destination) where T : unmanaged where TOp : IBinaryOperator<T>
    {
        var xa = x.Array<T>();
        var ya = y.Array<T>();
        var da = destination.Array<T>();
        int doff = destination.Offset;
        var plan = new BroadcastPlan(destination.Shape, x, y);
        int inner = plan.Inner;
        ParallelHelper.For(plan.Rows, RowGrain(inner), (r0, r1) =>
        {
            var cursor = plan.Seek(r0);
            int sx = plan.InnerStride(0), sy = plan.InnerStride(1);
            T[]? xs = sx is not (0 or 1) ? ArrayPool<T>.Shared.Rent(inner) : null;
            T[]? ys = sy is not (0 or 1) ? ArrayPool<T>.Shared.Rent(inner) : null;
            try
            {
                for (int r = r0; r < r1; r++)
                {
                    var d = da.AsSpan(doff + r * inner, inner);
                    int ox = cursor.Offset(0), oy = cursor.Offset(1);
                    if (sx == 0 && sy == 0)
                    {
                        d.Fill(TOp.Invoke(xa[ox], ya[oy]));
                    }
                    else if (sx == 0)
                    {
                        TOp.Invoke(xa[ox], RowOf(ya, oy, sy, ys, inner), d);
                    }
                    else if (sy == 0)
                    {
                        TOp.Invoke(RowOf(xa, ox, sx, xs, inner), ya[oy], d);
                    }
                    else
                    {
                        TOp.Invoke(RowOf(xa, ox, sx, xs, inner), RowOf(ya, oy, sy, ys, inner), d);
                    }
                    cursor.Next();
                }
            }
            finally
            {
                if (xs is not null) ArrayPool<T>.Shared.Return(xs);
                if (ys is not null) ArrayPool<T>.Shared.Return(ys);
            }
        });
    }

    /// <summary>destination[i] = op(x[i], y[i]) as Bool, with broadcasting.</summary>
    public static void Compare<T, TOp>(Tensor x, Tensor y, Tensor destination) where T : unmanaged where TOp : IComparisonOperator<T>
    {
        int n = destination.Numel;
        if (n == 0) return;
        var plan = new BroadcastPlan(destination.Shape, x, y);
        var xa = x.Array<T>();
        var ya = y.Array<T>();
        var da = destination.Array<bool>();
        int inner = plan.Inner, doff = destination.Offset;
        ParallelHelper.For(plan.Rows, RowGrain(inner), (r0, r1) =>
        {
            var cursor = plan.Seek(r0);
            int sx = plan.InnerStride(0), sy = plan.InnerStride(1);
            for (int r = r0; r < r1; r++)
            {
                var d = da.AsSpan(doff + r * inner, inner);
                int ox = cursor.Offset(0), oy = cursor.Offset(1);
                if (sx == 1 && sy == 1)
                {
                    var xr = xa.AsSpan(ox, inner);
                    var yr = ya.AsSpan(oy, inner);
                    for (int j = 0; j < d.Length; j++) d[j] = TOp.Invoke(xr[j], yr[j]);
                }
                else if (sx == 1 && sy == 0)
                {
                    var xr = xa.AsSpan(ox, inner);
                    T c = ya[oy];
                    for (int j = 0; j < d.Length; j++) d[j] = TOp.Invoke(xr[j], c);
                }
                else
                {
                    for (int j = 0; j < d.Length; j++) d[j] = TOp.Invoke(xa[ox + j * sx], ya[oy + j * sy]);
                }
                cursor.Next();
            }
        });
    }

    /// <summary>destination = condition ? x : y element-wise, all three broadcast to the destination's shape.</summary>
    public static void Where<T>(Tensor condition, Tensor x, Tensor y, Tensor destination) where T : unmanaged
    {
        int n = destination.Numel;
        if (n == 0) return;
        var plan = new BroadcastPlan(destination.Shape, condition, x, y);
        var ca = condition.Array<bool>();
        var xa = x.Array<T>();
        var ya = y.Array<T>();
        var da = destination.Array<T>();
        int inner = plan.Inner, doff = destination.Offset;
        ParallelHelper.For(plan.Rows, RowGrain(inner), (r0, r1) =>
        {
            var cursor = plan.Seek(r0);
            int sc = plan.InnerStride(0), sx = plan.InnerStride(1), sy = plan.InnerStride(2);
            for (int r = r0; r < r1; r++)
            {
                var d = da.AsSpan(doff + r * inner, inner);
                int oc = cursor.Offset(0), ox = cursor.Offset(1), oy = cursor.Offset(2);
                for (int j = 0; j < d.Length; j++) d[j] = ca[oc + j * sc] ? xa[ox + j * sx] : ya[oy + j * sy];
                cursor.Next();
            }
        });
    }

    /// <summary>Rows per thread worth a dispatch, for rows of <paramref name="inner"/> elements.</summary>
    internal static int RowGrain(int inner) => Math.Max(1, ParallelGrain / Math.Max(1, inner));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<T> RowOf<T>(T[] array, int offset, int stride, T[]? scratch, int inner)
    {
        if (stride == 1) return array.AsSpan(offset, inner);
        var row = scratch.AsSpan(0, inner);
        GatherRow<T>(array, offset, stride, row);
        return row;
    }

    private static void GatherRow<T>(T[] array, int offset, int stride, Span<T> row)
    {
        for (int j = 0; j < row.Length; j++) row[j] = array[offset + j * stride];
    }
}

/// <summary>
/// The operands of an element-wise op viewed at the result's shape, with dimensions merged wherever every operand
/// is laid out alike (so a contiguous [B, T, C] tensor plus a [C] bias becomes B·T rows of C), walked a row at a time.
/// </summary>
internal sealed class BroadcastPlan
{
    private readonly int[] _dims;        // merged dimensions, rank ≥ 1; the last is the row
    private readonly int[][] _strides;   // per operand, per merged dimension
    private readonly int[] _offsets;     // per operand

    public BroadcastPlan(Shape shape, params Tensor[] operands)
    {
        int rank = shape.Rank, count = operands.Length;
        var full = new int[count][];
        for (int k = 0; k < count; k++) full[k] = BroadcastStrides(operands[k], shape);

        // Walk from the innermost dimension outwards, dropping size-1 dimensions and merging a dimension into the
        // block inside it when every operand steps over that block exactly.
        var dims = new List<int>(rank);
        var strides = new List<int>[count];
        for (int k = 0; k < count; k++) strides[k] = new List<int>(rank);
        for (int i = rank - 1; i >= 0; i--)
        {
            int size = shape[i];
            if (size == 1) continue;
            int last = dims.Count - 1;
            bool merge = last >= 0;
            for (int k = 0; k < count && merge; k++) merge = full[k][i] == strides[k][last] * dims[last];
            if (merge)
            {
                dims[last] *= size;
            }
            else
            {
                dims.Add(size);
                for (int k = 0; k < count; k++) strides[k].Add(full[k][i]);
            }
        }
        if (dims.Count == 0)
        {
            dims.Add(1);
            for (int k = 0; k < count; k++) strides[k].Add(0);
        }
        dims.Reverse();
        _dims = dims.ToArray();
        _strides = new int[count][];
        _offsets = new int[count];
        for (int k = 0; k < count; k++)
        {
            strides[k].Reverse();
            _strides[k] = strides[k].ToArray();
            _offsets[k] = operands[k].Offset;
        }
        long rows = 1;
        for (int i = 0; i < _dims.Length - 1; i++) rows *= _dims[i];
        Rows = (int)rows;
    }

    /// <summary>Elements per row (the merged innermost dimension).</summary>
    public int Inner => _dims[^1];

    public int Rows { get; }

    public int InnerStride(int operand) => _strides[operand][^1];

    /// <summary>Merged dimensions, for tests.</summary>
    internal ReadOnlySpan<int> Dims => _dims;

    /// <summary>A cursor at the start of row <paramref name="row"/>.</summary>
    public Cursor Seek(int row) => new(this, row);

    /// <summary>Strides of <paramref name="t"/> viewed at <paramref name="shape"/>: 0 on broadcast dimensions.</summary>
    private static int[] BroadcastStrides(Tensor t, Shape shape)
    {
        int rank = shape.Rank, lead = rank - t.Rank;
        var strides = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            if (i < lead) continue;
            int own = t.Shape[i - lead];
            if (own != shape[i] && own != 1)
                throw new ArgumentException($"broadcast: shape {t.Shape} cannot be broadcast to {shape}");
            strides[i] = own == 1 ? 0 : t.Strides[i - lead];
        }
        return strides;
    }

    /// <summary>Odometer over the outer (row) dimensions, tracking each operand's storage offset.</summary>
    public sealed class Cursor
    {
        private readonly BroadcastPlan _plan;
        private readonly int[] _index;
        private readonly int[] _offsets;

        internal Cursor(BroadcastPlan plan, int row)
        {
            _plan = plan;
            int outer = plan._dims.Length - 1;
            _index = new int[Math.Max(outer, 0)];
            _offsets = (int[])plan._offsets.Clone();
            for (int ax = outer - 1; ax >= 0; ax--)
            {
                int i = row % plan._dims[ax];
                row /= plan._dims[ax];
                _index[ax] = i;
                for (int k = 0; k < _offsets.Length; k++) _offsets[k] += i * plan._strides[k][ax];
            }
        }

        public int Offset(int operand) => _offsets[operand];

        public void Next()
        {
            var dims = _plan._dims;
            for (int ax = _index.Length - 1; ax >= 0; ax--)
            {
                int i = ++_index[ax];
                if (i < dims[ax])
                {
                    for (int k = 0; k < _offsets.Length; k++) _offsets[k] += _plan._strides[k][ax];
                    return;
                }
                _index[ax] = 0;
                for (int k = 0; k < _offsets.Length; k++) _offsets[k] -= (dims[ax] - 1) * _plan._strides[k][ax];
            }
        }
    }
}
