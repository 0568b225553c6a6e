namespace Loom.Kernels;

/// <summary>
/// Softmax, log-softmax and the fused cross-entropy over the middle dimension of a contiguous [outer, dim, inner]
/// buffer. With inner = 1 (the last axis, the common case) each row is a span handled by TensorPrimitives while it
/// sits in L1: a pass for the maximum, a pass for exp(x − max) and its sum, a pass to normalise. With inner &gt; 1
/// the same three passes run over whole rows of length inner, vectorised along the kept dimension. For float32 the
/// exp pass is <see cref="ExpKernels.ExpShiftedSum"/>, which fuses the
/// shift, the exp and the sum.
/// The naive twins are in <see cref="Reference.ReferenceSoftmax"/>.
/// </summary>
internal static class SoftmaxKernels
{
    /// <summary>y = exp(x − max) / Σ exp(x − max) along dim.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax<T>(ReadOnlySpan<T> x, int outer, int dim, int inner, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLayout(x.Length, outer, dim, inner, y.Length, "softmax");
        if (dim == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var xr = x.Slice(o * dim, dim);
                var yr = y.Slice(o * dim, dim);
                T max = TensorPrimitives.Max(xr);
                T sum = ExpShifted(xr, max, yr);
                TensorPrimitives.Multiply(yr, T.One / sum, yr);
            }
            return;
        }
        Columns(x, outer, dim, inner, y, log: false);
    }

    /// <summary>y = x − max − log Σ exp(x − max) along dim.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSoftmax<T>(ReadOnlySpan<T> x, int outer, int dim, int inner, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLayout(x.Length, outer, dim, inner, y.Length, "log_softmax");
        if (dim == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var xr = x.Slice(o * dim, dim);
                var yr = y.Slice(o * dim, dim);
                // y doubles as the scratch for exp(x − max) before it receives the result. Subtracting max and
                // log Σ separately keeps x − max exact, as PyTorch does: their rounded sum would cost digits.
                var (max, logSum) = MaxAndLogSum(xr, yr);
                // An infinite log Σ means +∞ or only −∞ in the row, whose softmax is NaN (PyTorch's too, and the
                // column path's below); x − max − log Σ would instead give [NaN, −∞, …] for a row holding +∞.
                if (T.IsFinite(logSum)) SubtractTwice(xr, max, logSum, yr);
                else yr.Fill(T.NaN);
            }
            return;
        }
        Columns(x, outer, dim, inner, y, log: true);
    }

    /// <summary>
    /// Softmax or log-softmax along the middle dimension when inner &gt; 1, vectorised along inner: per block the column
    /// maxima, y = exp(x − max) and its column sums, then each row finished from them.
    /// </summary>
    private static void Columns<T>(ReadOnlySpan<T> x, int outer, int dim, int inner, Span<T> y, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = ArrayPool<T>.Shared.Rent(2 * inner);
        try
        {
            var max = scratch.AsSpan(0, inner);
            var sum = scratch.AsSpan(inner, inner);
            int size = dim * inner;
            for (int o = 0; o < outer; o++)
            {
                var xb = x.Slice(o * size, size);
                var yb = y.Slice(o * size, size);
                ColumnMax(xb, dim, inner, max);
                sum.Clear();
                for (int r = 0; r < dim; r++)
                {
                    var yr = yb.Slice(r * inner, inner);
                    TensorPrimitives.Subtract(xb.Slice(r * inner, inner), max, yr);
                    ExpKernels.Exp(yr, yr);
                    TensorPrimitives.Add(sum, yr, sum);
                }
                if (log) TensorPrimitives.Log(sum, sum);
                else TensorPrimitives.Reciprocal<T>(sum, sum);
                for (int r = 0; r < dim; r++)
                {
                    var yr = yb.Slice(r * inner, inner);
                    if (log)
                    {
                        // x − max − log Σ: subtracting the two separately keeps x − max exact.
                        TensorPrimitives.Subtract(xb.Slice(r * inner, inner), max, yr);
                        TensorPrimitives.Subtract(yr, sum, yr);
                    }
                    else
                    {
                        TensorPrimitives.Multiply(yr, sum, yr);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>Softmax backward from the output: dx = y ⊙ (dy − Σ dy ⊙ y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, int outer, int dim, int inner, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLayout(y.Length, outer, dim, inner, dx.Length, "softmax_backward");
        if (dy.Length != y.Length) throw new ArgumentException("softmax_backward: dy and y differ in length");
        if (dim == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var yr = y.Slice(o * dim, dim);
                var dxr = dx.Slice(o * dim, dim);
                TensorPrimitives.Subtract(dy.Slice(o * dim, dim), TensorPrimitives.Dot(dy.Slice(o * dim, dim), yr), dxr);
                TensorPrimitives.Multiply(dxr, yr, dxr);
            }
            return;
        }
        BackwardColumns(y, dy, outer, dim, inner, dx, log: false);
    }

    /// <summary>Log-softmax backward from the output: dx = dy − exp(y) Σ dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSoftmaxBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, int outer, int dim, int inner, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLayout(y.Length, outer, dim, inner, dx.Length, "log_softmax_backward");
        if (dy.Length != y.Length) throw new ArgumentException("log_softmax_backward: dy and y differ in length");
        if (dim == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var dyr = dy.Slice(o * dim, dim);
                var dxr = dx.Slice(o * dim, dim);
                T sum = TensorPrimitives.Sum(dyr);
                ExpShifted(y.Slice(o * dim, dim), T.Zero, dxr);
                TensorPrimitives.MultiplyAdd(dxr, -sum, dyr, dxr);
            }
            return;
        }
        BackwardColumns(y, dy, outer, dim, inner, dx, log: true);
    }

    /// <summary>
    /// Both backward passes when inner &gt; 1, vectorised along inner: per block the column sums a = Σ dy ⊙ y (softmax)
    /// or Σ dy (log-softmax), then row by row dx = (dy − a) ⊙ y or dy − exp(y) ⊙ a.
    /// </summary>
    private static void BackwardColumns<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, int outer, int dim, int inner, Span<T> dx, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = ArrayPool<T>.Shared.Rent(inner);
        try
        {
            var a = scratch.AsSpan(0, inner);
            int size = dim * inner;
            for (int o = 0; o < outer; o++)
            {
                var yb = y.Slice(o * size, size);
                var dyb = dy.Slice(o * size, size);
                var dxb = dx.Slice(o * size, size);
                a.Clear();
                for (int r = 0; r < dim; r++)
                {
                    if (log) TensorPrimitives.Add(a, dyb.Slice(r * inner, inner), a);
                    else TensorPrimitives.MultiplyAdd(dyb.Slice(r * inner, inner), yb.Slice(r * inner, inner), a, a);
                }
                if (log) TensorPrimitives.Negate<T>(a, a);
                for (int r = 0; r < dim; r++)
                {
                    var dxr = dxb.Slice(r * inner, inner);
                    if (log)
                    {
                        ExpKernels.Exp(yb.Slice(r * inner, inner), dxr);
                        TensorPrimitives.MultiplyAdd(dxr, a, dyb.Slice(r * inner, inner), dxr);
                    }
                    else
                    {
                        TensorPrimitives.Subtract(dyb.Slice(r * inner, inner), a, dxr);
                        TensorPrimitives.Multiply(dxr, yb.Slice(r * inner, inner), dxr);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// The two parts of log Σ exp(row) = max + log Σ exp(row − max), kept apart so callers can subtract max first;
    /// an infinite max is taken as 0 (all −∞ gives −∞). <paramref name="scratch"/> receives exp(row − max).
    /// </summary>
    public static (T Max, T LogSum) MaxAndLogSum<T>(ReadOnlySpan<T> row, Span<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (row.Length == 0) return (T.Zero, T.NegativeInfinity);
        T max = TensorPrimitives.Max(row);
        if (T.IsInfinity(max)) max = T.Zero;
        // float32 sums without storing the exps; float64 needs the scratch for TensorPrimitives.Exp.
        return (max, T.Log(ExpShifted(row, max, typeof(T) == typeof(float) ? default : scratch.Slice(0, row.Length))));
    }

    /// <summary>y = (x − a) − b in one pass (not x − (a + b), whose rounding would cost digits).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SubtractTwice<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Simd.For<T, SubtractTwiceStep<T>>(new(x, a, b, y), x.Length);
    }

    private readonly ref struct SubtractTwiceStep<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y) : ISimdStep<T> where T : unmanaged
    {
        private readonly ReadOnlySpan<T> x = x;
        private readonly Span<T> y = y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T> =>
            TS.Store(TS.Subtract(TS.Subtract(TS.Load(in MemoryMarshal.GetReference(x), i), TS.Create(a)), TS.Create(b)), ref MemoryMarshal.GetReference(y), i);
    }

    /// <summary>y = exp(x − shift), returning Σ y. For float32, y may be empty (sum only).</summary>
    private static T ExpShifted<T>(ReadOnlySpan<T> x, T shift, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            return T.CreateTruncating(ExpKernels.ExpShiftedSum(MemoryMarshal.Cast<T, float>(x), float.CreateTruncating(shift), MemoryMarshal.Cast<T, float>(y)));
        var e = y.Slice(0, x.Length);
        TensorPrimitives.Subtract(x, shift, e);
        ExpKernels.Exp(e, e);
        return TensorPrimitives.Sum<T>(e);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Cross-entropy over rows of logits [rows, classes]: log-softmax and the negative log-likelihood in one pass per
    // row, keeping only lse (log Σ exp) per row for backward, where softmax is recomputed as exp(x − lse) (llm.c's
    // fused classifier). ε is the label smoothing, w the class weights (empty: all 1), W = Σ w.
    //   class targets t:  loss = (1 − ε) w_t (lse − x_t) + (ε/C) Σ_c w_c (lse − x_c)        (0 where t = ignore)
    //                     dx_c = g [p_c ((1 − ε) w_t + ε W / C) − (1 − ε) w_t [c = t] − (ε/C) w_c]
    //   soft targets q:   q' = (1 − ε) q + ε/C,  loss = Σ_c w_c q'_c (lse − x_c)
    //                     dx_c = g [p_c Σ_k w_k q'_k − w_c q'_c],   dq_c = g (1 − ε) w_c (lse − x_c)
    // g is the gradient of each row's loss (dy, or dy over the mean's denominator).
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Per-row losses and lse for class-index targets (validated by the caller: each in [0, C) or equal to ignoreIndex).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CrossEntropy<T>(ReadOnlySpan<T> logits, int rows, int classes, ReadOnlySpan<long> target, ReadOnlySpan<T> weight,
        long ignoreIndex, T smoothing, Span<T> loss, Span<T> lse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(logits.Length, rows, classes, target.Length, loss.Length, lse.Length, "cross_entropy");
        T c = T.CreateTruncating(classes);
        T weightSum = weight.IsEmpty ? c : TensorPrimitives.Sum(weight);
        var scratch = ArrayPool<T>.Shared.Rent(classes);
        try
        {
            for (int i = 0; i < rows; i++)
            {
                var x = logits.Slice(i * classes, classes);
                var (max, logSum) = MaxAndLogSum(x, scratch);
                // A row whose softmax is NaN (+∞, NaN, or only −∞) gets a NaN loss and, through lse, NaN gradients,
                // as log_softmax followed by nll_loss gives in PyTorch.
                if (!T.IsFinite(logSum)) (max, logSum) = (T.NaN, T.NaN);
                lse[i] = max + logSum;
                long t = target[i];
                if (t == ignoreIndex)
                {
                    loss[i] = T.Zero;
                    continue;
                }
                T wt = weight.IsEmpty ? T.One : weight[(int)t];
                // lse − x_t as (max − x_t) + log Σ: the rounded lse would cost digits when the logits are large.
                T value = (T.One - smoothing) * wt * (max - x[(int)t] + logSum);
                if (smoothing != T.Zero)
                {
                    // Σ_c w_c (lse − x_c) = (max W − Σ_c w_c x_c) + log Σ · W
                    T dot = weight.IsEmpty ? TensorPrimitives.Sum(x) : TensorPrimitives.Dot(weight, x);
                    value += smoothing / c * (max * weightSum - dot + logSum * weightSum);
                }
                loss[i] = value;
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CrossEntropyBackward<T>(ReadOnlySpan<T> logits, int rows, int classes, ReadOnlySpan<long> target, ReadOnlySpan<T> weight,
        long ignoreIndex, T smoothing, ReadOnlySpan<T> lse, ReadOnlySpan<T> rowGrad, Span<T> dlogits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(logits.Length, rows, classes, target.Length, rowGrad.Length, lse.Length, "cross_entropy_backward");
        T c = T.CreateTruncating(classes);
        T weightSum = weight.IsEmpty ? c : TensorPrimitives.Sum(weight);
        for (int i = 0; i < rows; i++)
        {
            var dx = dlogits.Slice(i * classes, classes);
            long t = target[i];
            if (t == ignoreIndex)
            {
                // PyTorch's log_softmax backward turns the ignored row's zero gradient into dy − exp(y)·0: NaN for a NaN row.
                if (T.IsNaN(lse[i])) dx.Fill(T.NaN);
                else dx.Clear();
                continue;
            }
            T g = rowGrad[i];
            T wt = weight.IsEmpty ? T.One : weight[(int)t];
            ExpShifted(logits.Slice(i * classes, classes), lse[i], dx);
            TensorPrimitives.Multiply(dx, g * ((T.One - smoothing) * wt + smoothing * weightSum / c), dx);
            if (smoothing != T.Zero)
            {
                T k = -g * smoothing / c;
                if (weight.IsEmpty) TensorPrimitives.Add(dx, k, dx);
                else TensorPrimitives.MultiplyAdd(weight, k, dx, dx);
            }
            dx[(int)t] -= g * (T.One - smoothing) * wt;
        }
    }

    /// <summary>
    /// The losses of <see cref="CrossEntropy{T}"/> (no weights, no smoothing: the same bits) with the gradient written
    /// over the logits, for logits nobody else reads (<c>Functional.LinearCrossEntropy</c>): each row becomes
    /// g · softmax − g · one-hot, the loss gradient for a row gradient of <paramref name="rowGrad"/>. Softmax is
    /// exp(x − max) / Σ from the exponentials the sum pass stores, not exp(x − lse) recomputed as the backward of
    /// <see cref="CrossEntropy{T}"/> does: one exponential per logit instead of two, a few ulp apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CrossEntropyGradientInPlace<T>(Span<T> logits, int rows, int classes, ReadOnlySpan<long> target, long ignoreIndex,
        T rowGrad, Span<T> loss) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(logits.Length, rows, classes, target.Length, loss.Length, loss.Length, "cross_entropy");
        for (int i = 0; i < rows; i++)
        {
            var x = logits.Slice(i * classes, classes);
            long t = target[i];
            bool ignored = t == ignoreIndex;
            T xt = ignored ? T.Zero : x[(int)t];
            T max = T.Zero, logSum = T.NegativeInfinity, sum = T.Zero;
            if (classes > 0)
            {
                // MaxAndLogSum's steps, with exp(x − max) kept in place of x.
                max = TensorPrimitives.Max<T>(x);
                if (T.IsInfinity(max)) max = T.Zero;
                sum = ExpShifted<T>(x, max, x);
                logSum = T.Log(sum);
            }
            bool finite = T.IsFinite(logSum);
            if (ignored)
            {
                loss[i] = T.Zero;
                // As CrossEntropyBackward: an ignored row's gradient is zero, NaN for a row whose softmax is NaN.
                if (finite) x.Clear();
                else x.Fill(T.NaN);
                continue;
            }
            if (!finite)
            {
                loss[i] = T.NaN;
                x.Fill(T.NaN);
                continue;
            }
            loss[i] = max - xt + logSum;
            TensorPrimitives.Multiply<T>(x, rowGrad / sum, x);
            x[(int)t] -= rowGrad;
        }
    }

    /// <summary>Per-row losses and lse for probability targets [rows, classes].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftCrossEntropy<T>(ReadOnlySpan<T> logits, int rows, int classes, ReadOnlySpan<T> probabilities, ReadOnlySpan<T> weight,
        T smoothing, Span<T> loss, Span<T> lse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(logits.Length, rows, classes, probabilities.Length / Math.Max(1, classes), loss.Length, lse.Length, "cross_entropy");
        var scratch = ArrayPool<T>.Shared.Rent(classes);
        try
        {
            var q = scratch.AsSpan(0, classes);
            for (int i = 0; i < rows; i++)
            {
                var x = logits.Slice(i * classes, classes);
                var (max, logSum) = MaxAndLogSum(x, scratch);
                if (!T.IsFinite(logSum)) (max, logSum) = (T.NaN, T.NaN); // as for class targets
                lse[i] = max + logSum;
                SmoothedWeighted(probabilities.Slice(i * classes, classes), weight, smoothing, q);
                // Σ_c q_c (lse − x_c) = (max Σ q − q·x) + log Σ · Σ q
                T mass = TensorPrimitives.Sum<T>(q);
                loss[i] = max * mass - TensorPrimitives.Dot<T>(q, x) + logSum * mass;
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>Gradients for probability targets; <paramref name="dtarget"/> may be empty when the target needs none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftCrossEntropyBackward<T>(ReadOnlySpan<T> logits, int rows, int classes, ReadOnlySpan<T> probabilities, ReadOnlySpan<T> weight,
        T smoothing, ReadOnlySpan<T> lse, ReadOnlySpan<T> rowGrad, Span<T> dlogits, Span<T> dtarget) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(logits.Length, rows, classes, probabilities.Length / Math.Max(1, classes), rowGrad.Length, lse.Length, "cross_entropy_backward");
        var scratch = ArrayPool<T>.Shared.Rent(classes);
        try
        {
            var q = scratch.AsSpan(0, classes);
            for (int i = 0; i < rows; i++)
            {
                var x = logits.Slice(i * classes, classes);
                T g = rowGrad[i];
                SmoothedWeighted(probabilities.Slice(i * classes, classes), weight, smoothing, q);
                if (!dlogits.IsEmpty)
                {
                    var dx = dlogits.Slice(i * classes, classes);
                    ExpShifted(x, lse[i], dx);
                    TensorPrimitives.Multiply(dx, TensorPrimitives.Sum<T>(q), dx);
                    TensorPrimitives.Subtract(dx, q, dx);
                    TensorPrimitives.Multiply(dx, g, dx);
                }
                if (!dtarget.IsEmpty)
                {
                    // dq_c = g (1 − ε) w_c (lse − x_c)
                    var dq = dtarget.Slice(i * classes, classes);
                    TensorPrimitives.Subtract(lse[i], x, dq);
                    T k = g * (T.One - smoothing);
                    if (weight.IsEmpty) TensorPrimitives.Multiply(dq, k, dq);
                    else
                    {
                        TensorPrimitives.Multiply(dq, weight, dq);
                        TensorPrimitives.Multiply(dq, k, dq);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    // q = ((1 − ε) p + ε/C) ⊙ w
    private static void SmoothedWeighted<T>(ReadOnlySpan<T> p, ReadOnlySpan<T> weight, T smoothing, Span<T> q) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (smoothing == T.Zero) p.CopyTo(q);
        else
        {
            TensorPrimitives.Multiply(p, T.One - smoothing, q);
            TensorPrimitives.Add(q, smoothing / T.CreateTruncating(q.Length), q);
        }
        if (!weight.IsEmpty) TensorPrimitives.Multiply(q, weight, q);
    }

    /// <summary>Negative log-likelihood per row: loss = −w_t · logp[t] (0 where t = ignoreIndex).</summary>
    public static void Nll<T>(ReadOnlySpan<T> logProbs, int rows, int classes, ReadOnlySpan<long> target, ReadOnlySpan<T> weight,
        long ignoreIndex, Span<T> loss) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(logProbs.Length, rows, classes, target.Length, loss.Length, rows, "nll_loss");
        for (int i = 0; i < rows; i++)
        {
            long t = target[i];
            loss[i] = t == ignoreIndex ? T.Zero : -(weight.IsEmpty ? T.One : weight[(int)t]) * logProbs[i * classes + (int)t];
        }
    }

    /// <summary>NLL backward: the only non-zero entry of each row is dlogp[t] = −g · w_t.</summary>
    public static void NllBackward<T>(int rows, int classes, ReadOnlySpan<long> target, ReadOnlySpan<T> weight, long ignoreIndex,
        ReadOnlySpan<T> rowGrad, Span<T> dlogProbs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(dlogProbs.Length, rows, classes, target.Length, rowGrad.Length, rows, "nll_loss_backward");
        dlogProbs.Clear();
        for (int i = 0; i < rows; i++)
        {
            long t = target[i];
            if (t != ignoreIndex) dlogProbs[i * classes + (int)t] = -rowGrad[i] * (weight.IsEmpty ? T.One : weight[(int)t]);
        }
    }

    private static void ColumnMax<T>(ReadOnlySpan<T> block, int dim, int inner, Span<T> max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        block.Slice(0, inner).CopyTo(max);
        for (int r = 1; r < dim; r++) TensorPrimitives.Max(max, block.Slice(r * inner, inner), max);
    }

    private static void CheckLayout(int length, int outer, int dim, int inner, int destinationLength, string op)
    {
        if (outer < 0 || dim < 0 || inner < 0 || (long)outer * dim * inner != length)
            throw new ArgumentException($"{op}: a buffer of {length} elements is not [{outer}, {dim}, {inner}]");
        if (destinationLength < length)
            throw new ArgumentException($"{op}: destination of {destinationLength} elements is shorter than the input ({length})");
    }

    private static void CheckRows(int length, int rows, int classes, int targets, int perRow, int perRow2, string op)
    {
        if ((long)rows * classes != length || targets < rows || perRow < rows || perRow2 < rows)
            throw new ArgumentException($"{op}: buffers do not match [{rows}, {classes}]");
    }
}
