namespace Loom.Kernels;

/// <summary>
/// Normalisation kernels. Layer and RMS norm work on [rows, n] and keep per-row statistics for backward (llm.c's
/// layernorm_forward/backward). Batch and group norm are built from the row kernels at the bottom, which apply
/// per-row scalars to [rows, s] (rows = N·C, s = the spatial size); with s = 1 they become element-wise span ops,
/// so a [N, C] batch norm is vectorised along C instead of calling a kernel per element.
/// The naive twins are in <see cref="Reference.ReferenceNorm"/>.
/// </summary>
internal static class NormKernels
{
    /// <summary>
    /// y = (x − mean) · rstd · w + b per row of n, with rstd = 1/√(var + eps) and var the biased variance (two-pass).
    /// <paramref name="weight"/> and <paramref name="bias"/> may be empty (no affine step).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm<T>(ReadOnlySpan<T> x, int rows, int n, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, T eps,
        Span<T> y, Span<T> mean, Span<T> rstd, VectorWidth width = VectorWidth.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, n, y.Length, "layer_norm");
        if (!weight.IsEmpty && !bias.IsEmpty)
        {
            Simd.Run<T, bool, LayerNormKernel<T>>(new(x, rows, n, weight, bias, eps, y, mean, rstd), width);
            return;
        }
        T count = T.CreateTruncating(n);
        for (int r = 0; r < rows; r++)
        {
            // Three passes, only the first from memory: the mean, Σ (x − mean)² and the normalised, affine row.
            var xr = x.Slice(r * n, n);
            T m = TensorPrimitives.Sum(xr) / count;
            T s = T.One / T.Sqrt(SquaredDeviations(xr, m) / count + eps);
            mean[r] = m;
            rstd[r] = s;
            Normalize(xr, m, s, weight, bias, y.Slice(r * n, n));
        }
    }

    /// <summary>
    /// The affine layer norm's rows in one kernel: per row the sum, Σ (x − mean)² and the normalised row, three passes
    /// over a row in L1 without a call between them (they were three calls per row, on rows of 256 in a GPT step).
    /// Σ (x − mean)² and the output are computed as <see cref="SquaredDeviations"/> and <see cref="Normalize"/>
    /// compute them; only the sum's order differs from TensorPrimitives.Sum.
    /// </summary>
    private readonly ref struct LayerNormKernel<T>(ReadOnlySpan<T> x, int rows, int n, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, T eps,
        Span<T> y, Span<T> mean, Span<T> rstd) : ISimdKernel<T, bool> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> x = x, weight = weight, bias = bias;
        private readonly Span<T> y = y, mean = mean, rstd = rstd;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Run<TV, TS>() where TV : struct where TS : ISimd<TV, T>
        {
            ref T w0 = ref MemoryMarshal.GetReference(weight);
            ref T b0 = ref MemoryMarshal.GetReference(bias);
            nuint len = (nuint)n, w = (nuint)TS.Count;
            T count = T.CreateTruncating(n);
            for (int r = 0; r < rows; r++)
            {
                ref T xr = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (nint)r * n);
                ref T yr = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), (nint)r * n);
                TV a0 = TS.Zero, a1 = TS.Zero;
                nuint i = 0;
                for (; i + 2 * w <= len; i += 2 * w)
                {
                    a0 = TS.Add(a0, TS.Load(in xr, i));
                    a1 = TS.Add(a1, TS.Load(in xr, i + w));
                }
                T total = TS.Sum(TS.Add(a0, a1));
                for (; i < len; i++) total += Unsafe.Add(ref xr, i);
                T m = total / count;
                var vm = TS.Create(m);
                T s = T.One / T.Sqrt(SquaredDeviationsKernel<T>.Sum<TV, TS>(ref xr, len, m) / count + eps);
                mean[r] = m;
                rstd[r] = s;
                var vs = TS.Create(s);
                for (i = 0; i + w <= len; i += w)
                {
                    var v = TS.Multiply(TS.Subtract(TS.Load(in xr, i), vm), vs);
                    TS.Store(TS.Add(TS.Multiply(v, TS.Load(in w0, i)), TS.Load(in b0, i)), ref yr, i);
                }
                for (; i < len; i++)
                    Unsafe.Add(ref yr, i) = (Unsafe.Add(ref xr, i) - m) * s * Unsafe.Add(ref w0, i) + Unsafe.Add(ref b0, i);
            }
            return true;
        }
    }

    /// <summary>Σ (x − mean)², two vector accumulators deep.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static T SquaredDeviations<T>(ReadOnlySpan<T> x, T mean, VectorWidth width = VectorWidth.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        return Simd.Run<T, T, SquaredDeviationsKernel<T>>(new(x, mean), width);
    }

    private readonly ref struct SquaredDeviationsKernel<T>(ReadOnlySpan<T> x, T mean) : ISimdKernel<T, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> x = x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Run<TV, TS>() where TV : struct where TS : ISimd<TV, T> =>
            Sum<TV, TS>(ref MemoryMarshal.GetReference(x), (nuint)x.Length, mean);

        /// <summary>Σ (x − mean)² over the n values at xs.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Sum<TV, TS>(ref T xs, nuint n, T mean) where TV : struct where TS : ISimd<TV, T>
        {
            nuint i = 0, w = (nuint)TS.Count;
            var m = TS.Create(mean);
            TV a0 = TS.Zero, a1 = TS.Zero;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                var d0 = TS.Subtract(TS.Load(in xs, i), m);
                var d1 = TS.Subtract(TS.Load(in xs, i + w), m);
                a0 = TS.Add(a0, TS.Multiply(d0, d0));
                a1 = TS.Add(a1, TS.Multiply(d1, d1));
            }
            T sum = TS.Sum(TS.Add(a0, a1));
            for (; i < n; i++)
            {
                T d = Unsafe.Add(ref xs, i) - mean;
                sum += d * d;
            }
            return sum;
        }
    }

    /// <summary>y = (x − mean) · rstd · w + b in one pass (w and b may be empty).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Normalize<T>(ReadOnlySpan<T> x, T mean, T rstd, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> y, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (weight.IsEmpty || bias.IsEmpty)
        {
            // Without the affine step, or with only half of it: rare enough for the multi-pass form.
            TensorPrimitives.Subtract(x, mean, y);
            TensorPrimitives.Multiply(y.Slice(0, x.Length), rstd, y);
            if (!weight.IsEmpty) TensorPrimitives.Multiply(y.Slice(0, x.Length), weight, y);
            if (!bias.IsEmpty) TensorPrimitives.Add(y.Slice(0, x.Length), bias, y);
            return;
        }
        Simd.For<T, NormalizeStep<T>>(new(x, mean, rstd, weight, bias, y), x.Length, width);
    }

    private readonly ref struct NormalizeStep<T>(ReadOnlySpan<T> x, T mean, T rstd, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> y)
        : ISimdStep<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> x = x, weight = weight, bias = bias;
        private readonly Span<T> y = y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            var v = TS.Multiply(TS.Subtract(TS.Load(in MemoryMarshal.GetReference(x), i), TS.Create(mean)), TS.Create(rstd));
            v = TS.Add(TS.Multiply(v, TS.Load(in MemoryMarshal.GetReference(weight), i)), TS.Load(in MemoryMarshal.GetReference(bias), i));
            TS.Store(v, ref MemoryMarshal.GetReference(y), i);
        }
    }

    /// <summary>
    /// With x̂ = (x − mean) · rstd and d = dy ⊙ w: dx = rstd · (d − mean(d) − x̂ · mean(d ⊙ x̂)); dweight += Σ_rows dy ⊙ x̂,
    /// dbias += Σ_rows dy. Any of dx, dweight, dbias may be empty to skip it; dweight and dbias accumulate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNormBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int n, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dweight, Span<T> dbias, VectorWidth width = VectorWidth.Auto,
        ReadOnlySpan<T> addToDx = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, n, dy.Length, "layer_norm_backward");
        Backward(dy, x, rows, n, weight, mean, rstd, dx, dweight, dbias, width, addToDx);
    }

    /// <summary>y = x · rrms · w per row, rrms = 1/√(mean(x²) + eps). <paramref name="weight"/> may be empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm<T>(ReadOnlySpan<T> x, int rows, int n, ReadOnlySpan<T> weight, T eps, Span<T> y, Span<T> rrms)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, n, y.Length, "rms_norm");
        T count = T.CreateTruncating(n);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * n, n);
            var yr = y.Slice(r * n, n);
            T s = T.One / T.Sqrt(TensorPrimitives.SumOfSquares(xr) / count + eps);
            rrms[r] = s;
            TensorPrimitives.Multiply(xr, s, yr);
            if (!weight.IsEmpty) TensorPrimitives.Multiply(yr, weight, yr);
        }
    }

    /// <summary>With x̂ = x · rrms and d = dy ⊙ w: dx = rrms · (d − x̂ · mean(d ⊙ x̂)); dweight += Σ_rows dy ⊙ x̂ (accumulates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNormBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int n, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> rrms, Span<T> dx, Span<T> dweight, VectorWidth width = VectorWidth.Auto, ReadOnlySpan<T> addToDx = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, n, dy.Length, "rms_norm_backward");
        Backward(dy, x, rows, n, weight, default, rrms, dx, dweight, default, width, addToDx);
    }

    /// <summary>
    /// Both norms' backward: x̂ = (x − mean)·s, or x·s for RMS norm (<paramref name="mean"/> empty), and d = dy ⊙ w;
    /// dx = s · (d − mean(d) − x̂ · mean(d ⊙ x̂)), without the mean(d) term for RMS norm (its forward subtracts no mean);
    /// dweight += Σ_rows dy ⊙ x̂, dbias += Σ_rows dy. Empty destinations are skipped. With <paramref name="addToDx"/>
    /// (another gradient of x, [rows, n]) dx = addToDx + the above, summed as the autograd engine would.
    /// </summary>
    private static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int n, ReadOnlySpan<T> weight, ReadOnlySpan<T> mean,
        ReadOnlySpan<T> scale, Span<T> dx, Span<T> dweight, Span<T> dbias, VectorWidth width = VectorWidth.Auto, ReadOnlySpan<T> addToDx = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!addToDx.IsEmpty && (dx.IsEmpty || addToDx.Length < rows * n))
            throw new ArgumentException($"norm backward: a gradient to add to dx needs dx and {rows * n} values, got {addToDx.Length}");
        Simd.Run<T, bool, NormBackwardKernel<T>>(new(dy, x, rows, n, weight, mean, scale, dx, dweight, dbias, addToDx), width);
    }

    /// <summary>
    /// The norm backward in two passes per row, both over data in L1: the first accumulates Σ d and Σ d ⊙ x̂ and adds
    /// the row into dweight and dbias, the second writes dx, recomputing x̂ and d rather than storing them. The former
    /// form made ten TensorPrimitives calls per row (a 256-wide row in a GPT step). Per element the operations are the former ones (dweight by a fused multiply-add, dx by
    /// ((x̂·(−b) + d) − mean(d))·s unfused), so only the two row sums depend on the width.
    /// </summary>
    private readonly ref struct NormBackwardKernel<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int n, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, Span<T> dx, Span<T> dweight, Span<T> dbias, ReadOnlySpan<T> addToDx) : ISimdKernel<T, bool>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> dy = dy, x = x, weight = weight, mean = mean, scale = scale, addToDx = addToDx;
        private readonly Span<T> dx = dx, dweight = dweight, dbias = dbias;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Run<TV, TS>() where TV : struct where TS : ISimd<TV, T>
        {
            bool centered = !mean.IsEmpty, affine = !weight.IsEmpty, hasDw = !dweight.IsEmpty, hasDb = !dbias.IsEmpty, hasDx = !dx.IsEmpty;
            bool add = !addToDx.IsEmpty;
            ref T w0 = ref MemoryMarshal.GetReference(weight);
            ref T dw0 = ref MemoryMarshal.GetReference(dweight);
            ref T db0 = ref MemoryMarshal.GetReference(dbias);
            nuint len = (nuint)n, step = (nuint)TS.Count, vectorEnd = len >= step ? len - len % step : 0;
            T count = T.CreateTruncating(n);
            for (int r = 0; r < rows; r++)
            {
                ref T dyr = ref Unsafe.Add(ref MemoryMarshal.GetReference(dy), (nint)r * n);
                ref T xr = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (nint)r * n);
                T m = centered ? mean[r] : T.Zero, s = scale[r];
                TV vm = TS.Create(m), vs = TS.Create(s), sumD = TS.Zero, sumDx = TS.Zero;
                nuint i = 0;
                for (; i < vectorEnd; i += step)
                {
                    var vdy = TS.Load(in dyr, i);
                    var norm = centered ? TS.Multiply(TS.Subtract(TS.Load(in xr, i), vm), vs) : TS.Multiply(TS.Load(in xr, i), vs);
                    if (hasDw) TS.Store(TS.MultiplyAdd(vdy, norm, TS.Load(in dw0, i)), ref dw0, i);
                    if (hasDb) TS.Store(TS.Add(TS.Load(in db0, i), vdy), ref db0, i);
                    var d = affine ? TS.Multiply(vdy, TS.Load(in w0, i)) : vdy;
                    sumD = TS.Add(sumD, d);
                    sumDx = TS.Add(sumDx, TS.Multiply(d, norm));
                }
                T totalD = TS.Sum(sumD), totalDx = TS.Sum(sumDx);
                for (; i < len; i++)
                {
                    T vdy = Unsafe.Add(ref dyr, i);
                    T norm = centered ? (Unsafe.Add(ref xr, i) - m) * s : Unsafe.Add(ref xr, i) * s;
                    if (hasDw) Unsafe.Add(ref dw0, i) = T.FusedMultiplyAdd(vdy, norm, Unsafe.Add(ref dw0, i));
                    if (hasDb) Unsafe.Add(ref db0, i) += vdy;
                    T d = affine ? vdy * Unsafe.Add(ref w0, i) : vdy;
                    totalD += d;
                    totalDx += d * norm;
                }
                if (!hasDx) continue;
                T b = totalDx / count, shift = centered ? -(totalD / count) : T.Zero;
                ref T dxr = ref Unsafe.Add(ref MemoryMarshal.GetReference(dx), (nint)r * n);
                ref T addr = ref Unsafe.Add(ref MemoryMarshal.GetReference(addToDx), add ? (nint)r * n : 0);
                TV vnb = TS.Create(-b), vshift = TS.Create(shift);
                for (i = 0; i < vectorEnd; i += step)
                {
                    var vdy = TS.Load(in dyr, i);
                    var norm = centered ? TS.Multiply(TS.Subtract(TS.Load(in xr, i), vm), vs) : TS.Multiply(TS.Load(in xr, i), vs);
                    var d = affine ? TS.Multiply(vdy, TS.Load(in w0, i)) : vdy;
                    var v = TS.Add(TS.Multiply(norm, vnb), d);
                    if (centered) v = TS.Add(v, vshift);
                    v = TS.Multiply(v, vs);
                    TS.Store(add ? TS.Add(TS.Load(in addr, i), v) : v, ref dxr, i);
                }
                for (; i < len; i++)
                {
                    T vdy = Unsafe.Add(ref dyr, i);
                    T norm = centered ? (Unsafe.Add(ref xr, i) - m) * s : Unsafe.Add(ref xr, i) * s;
                    T d = affine ? vdy * Unsafe.Add(ref w0, i) : vdy;
                    T v = norm * -b + d;
                    if (centered) v += shift;
                    Unsafe.Add(ref dxr, i) = add ? Unsafe.Add(ref addr, i) + v * s : v * s;
                }
            }
            return true;
        }
    }

    // ---------------------------------------------------------------- row kernels over [rows, s] with per-row scalars

    /// <summary>sums[r] = Σ x[r, :].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowSums<T>(ReadOnlySpan<T> x, int rows, int s, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, s, x.Length, "row_sums");
        if (s == 1)
        {
            x.CopyTo(sums);
            return;
        }
        for (int r = 0; r < rows; r++) sums[r] = ReductionKernels.RowSum(x.Slice(r * s, s));
    }

    /// <summary>result[r] = Σ (x[r, :] − center[r])².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowCenteredSquares<T>(ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> center, Span<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, s, x.Length, "row_centered_squares");
        RowCentered(default, x, rows, s, center, result);
    }

    /// <summary>result[r] = Σ dy[r, :] · (x[r, :] − center[r]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowCenteredDot<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> center, Span<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, s, dy.Length, "row_centered_dot");
        RowCentered(dy, x, rows, s, center, result);
    }

    /// <summary>result[r] = Σ w[r, :] · (x[r, :] − center[r]) with w = dy, or x − center itself when dy is empty.</summary>
    private static void RowCentered<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> center, Span<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool squares = dy.IsEmpty;
        if (s == 1)
        {
            TensorPrimitives.Subtract(x, center.Slice(0, rows), result);
            TensorPrimitives.Multiply(result.Slice(0, rows), squares ? result.Slice(0, rows) : dy, result);
            return;
        }
        var scratch = ArrayPool<T>.Shared.Rent(s);
        try
        {
            var diff = scratch.AsSpan(0, s);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.Subtract(x.Slice(r * s, s), center[r], diff);
                result[r] = squares ? TensorPrimitives.SumOfSquares<T>(diff) : TensorPrimitives.Dot<T>(dy.Slice(r * s, s), diff);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>y[r, :] = x[r, :] · scale[r] + shift[r].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowAffine<T>(ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> scale, ReadOnlySpan<T> shift, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, s, y.Length, "row_affine");
        if (s == 1)
        {
            TensorPrimitives.FusedMultiplyAdd(x, scale.Slice(0, rows), shift.Slice(0, rows), y);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * s, s);
            TensorPrimitives.Multiply(x.Slice(r * s, s), scale[r], yr);
            TensorPrimitives.Add(yr, shift[r], yr);
        }
    }

    /// <summary>dx[r, :] = dy[r, :] · k1[r] + x[r, :] · k2[r] + k3[r]: the form every batch- and group-norm input gradient takes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowAffine2<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> k1, ReadOnlySpan<T> k2,
        ReadOnlySpan<T> k3, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, s, dy.Length, "row_affine2");
        RowAffine(x, rows, s, k2, k3, dx);
        if (s == 1)
        {
            TensorPrimitives.FusedMultiplyAdd(dy, k1.Slice(0, rows), dx.Slice(0, rows), dx);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            var dxr = dx.Slice(r * s, s);
            TensorPrimitives.MultiplyAdd(dy.Slice(r * s, s), k1[r], dxr, dxr);
        }
    }

    // Batch norm fused with ReLU. ReLU's mask is taken from its output y as in ReluBackward: the gradient passes
    // where y > 0 or y is NaN (PyTorch's threshold_backward), and is 0 where y ≤ 0.

    /// <summary>y[r, :] = max(x[r, :] · scale[r] + shift[r], 0), NaN staying NaN (as <see cref="Tensor.Relu"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowAffineRelu<T>(ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> scale, ReadOnlySpan<T> shift, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RowAffine(x, rows, s, scale, shift, y);
        TensorPrimitives.Max(y[..(rows * s)], T.Zero, y);
    }

    /// <summary>
    /// With g = dy masked by ReLU's output y: sumG[r] = Σ g[r, :] and sumGCentered[r] = Σ g[r, :] · (x[r, :] − center[r]),
    /// in one pass over dy, y and x.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowMaskedSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> y, ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> center,
        Span<T> sumG, Span<T> sumGCentered, VectorWidth width = VectorWidth.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, s, dy.Length, "row_masked_sums");
        CheckRows(x.Length, rows, s, y.Length, "row_masked_sums");
        for (int r = 0; r < rows; r++)
            (sumG[r], sumGCentered[r]) = Simd.Run<T, (T, T), MaskedSumsKernel<T>>(new(dy.Slice(r * s, s), y.Slice(r * s, s), x.Slice(r * s, s), center[r]), width);
    }

    private readonly ref struct MaskedSumsKernel<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> y, ReadOnlySpan<T> x, T center)
        : ISimdKernel<T, (T, T)> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> dy = dy, y = y, x = x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (T, T) Run<TV, TS>() where TV : struct where TS : ISimd<TV, T>
        {
            ref T dys = ref MemoryMarshal.GetReference(dy);
            ref T ys = ref MemoryMarshal.GetReference(y);
            ref T xs = ref MemoryMarshal.GetReference(x);
            nuint i = 0, n = (nuint)x.Length, w = (nuint)TS.Count;
            var c = TS.Create(center);
            TV g = TS.Zero, gc = TS.Zero;
            for (; i + w <= n; i += w)
            {
                var masked = SimdMath.ReluGradient<TV, TS, T>(TS.Load(in dys, i), TS.Load(in ys, i));
                g = TS.Add(g, masked);
                gc = TS.MultiplyAdd(masked, TS.Subtract(TS.Load(in xs, i), c), gc);
            }
            T sum = TS.Sum(g), centered = TS.Sum(gc);
            for (; i < n; i++)
            {
                if (Unsafe.Add(ref ys, i) <= T.Zero) continue;
                T d = Unsafe.Add(ref dys, i);
                sum += d;
                centered += d * (Unsafe.Add(ref xs, i) - center);
            }
            return (sum, centered);
        }
    }

    /// <summary>dx[r, :] = g[r, :] · k1[r] + x[r, :] · k2[r] + k3[r] with g = dy masked by ReLU's output y: <see cref="RowAffine2"/> after ReLU's backward.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowAffine2Masked<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> y, ReadOnlySpan<T> x, int rows, int s, ReadOnlySpan<T> k1,
        ReadOnlySpan<T> k2, ReadOnlySpan<T> k3, Span<T> dx, VectorWidth width = VectorWidth.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(x.Length, rows, s, dy.Length, "row_affine2_masked");
        CheckRows(x.Length, rows, s, y.Length, "row_affine2_masked");
        CheckRows(x.Length, rows, s, dx.Length, "row_affine2_masked");
        for (int r = 0; r < rows; r++)
            Simd.For<T, Affine2MaskedStep<T>>(new(dy.Slice(r * s, s), y.Slice(r * s, s), x.Slice(r * s, s), k1[r], k2[r], k3[r], dx.Slice(r * s, s)), s, width);
    }

    private readonly ref struct Affine2MaskedStep<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> y, ReadOnlySpan<T> x, T a, T b, T c, Span<T> dx)
        : ISimdStep<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> dy = dy, y = y, x = x;
        private readonly Span<T> dx = dx;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            var masked = SimdMath.ReluGradient<TV, TS, T>(TS.Load(in MemoryMarshal.GetReference(dy), i), TS.Load(in MemoryMarshal.GetReference(y), i));
            var v = TS.Add(TS.Add(TS.Multiply(masked, TS.Create(a)), TS.Multiply(TS.Load(in MemoryMarshal.GetReference(x), i), TS.Create(b))), TS.Create(c));
            TS.Store(v, ref MemoryMarshal.GetReference(dx), i);
        }
    }

    private static void CheckRows(int length, int rows, int n, int otherLength, string op)
    {
        if (rows < 0 || n < 0 || (long)rows * n != length || otherLength < length)
            throw new ArgumentException($"{op}: a buffer of {length} elements is not [{rows}, {n}]");
    }
}
