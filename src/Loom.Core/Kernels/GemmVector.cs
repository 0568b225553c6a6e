namespace Loom.Kernels;

/// <summary>
/// GEMM with a single output row or column (m == 1 or n == 1: batch-1 inference, a bias gradient, generation with a
/// KV cache) is a matrix-vector product. Packing would copy the whole matrix to use each element once, so these shapes
/// skip the blocked driver and stream the matrix once, in one of two forms:
/// <code>
/// dot form:   out[j] = Σ_p x[p] · M[j, p]     (the vector runs along the stored rows of M: y = x · Wᵀ of a linear layer)
/// axpy form:  out[j] = Σ_p x[p] · M[p, j]     (it runs across them: scaled rows summed into out)
/// </code>
/// then C = alpha · out + beta · C, then the epilogue (bias, activation) on the range just written.
/// Threads take disjoint ranges of j; every out[j] is summed in the same order whatever range holds it, so results do
/// not depend on the thread count.
/// </summary>
/// <remarks>
/// The dot form has its own kernels (<see cref="DotRows{T, TV, TS}"/> over ISimd for the AVX-512 and AVX2 paths,
/// <see cref="DotRowsScalar{T}"/>, chosen by <see cref="Gemm.ActivePath"/>): four rows at a time share each load of x and keep eight accumulators in
/// flight, where one <c>TensorPrimitives.Dot</c> per row paid its call, alignment prologue and horizontal sum per row
/// and ran 30–40 % slower on the layers of a batch-1 MLP (784 → 512: 28 → 19 µs). The axpy form stays on
/// TensorPrimitives (one fused multiply-add pass per row of M over an L1-sized chunk of out).
/// </remarks>
internal static unsafe class GemmVector
{
    /// <summary>Axpy-form columns per pass: the running sums stay in L1 while the rows stream past.</summary>
    private const int AxpyChunk = 2048;

    /// <summary>Narrower than this, the axpy form runs as strided column sums.</summary>
    private const int MinAxpyWidth = 16;

    /// <summary>
    /// Matrix elements per thread worth a parallel dispatch (~1 µs): 64 Ki floats take ~4 µs to stream from L3, and a
    /// second core brings its own L2 and its own share of L3 bandwidth to a product that is bound by memory.
    /// </summary>
    private const long ParallelElements = 1 << 16;

    public static bool Applies<T>(in GemmProblem<T> p) where T : unmanaged => p.M == 1 || p.N == 1;

    private struct Job<T> where T : unmanaged
    {
        public T* X;          // the vector, contiguous, k long
        public T* Matrix;     // M, stored row-major with row stride Ld
        public nint Ld;
        public int K;
        public bool DotForm;
        public GemmPath Path;
        public T* Out;        // the length-n (or m) result before alpha/beta: C itself when Direct
        public bool Direct;
        public bool RowOut;   // out is C's single row (else its single column)
        public T Alpha, Beta;
        public T* C;
        public nint Ldc;
        public GemmEpilogue<T> Epilogue;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(in GemmProblem<T> p, int threads, GemmPath path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Orient: the vector is op(A)'s row (m == 1) or op(B)'s column (n == 1); out has the other dimension.
        bool rowOut = p.M == 1;
        int length = rowOut ? p.N : p.M;
        nint outStride = rowOut ? 1 : p.Ldc;
        T* vector = rowOut ? p.A : p.B;
        nint vectorStride = rowOut ? (p.TransA ? p.Lda : 1) : (p.TransB ? 1 : p.Ldb);
        var job = new Job<T>
        {
            K = p.K,
            Matrix = rowOut ? p.B : p.A,
            Ld = rowOut ? p.Ldb : p.Lda,
            DotForm = rowOut ? p.TransB : !p.TransA,
            Path = path,
            RowOut = rowOut,
            Alpha = p.Alpha,
            Beta = p.Beta,
            C = p.C,
            Ldc = p.Ldc,
            Epilogue = p.Epilogue,
            // Written straight into C when nothing needs combining (the usual y = x · Wᵀ): no buffer, no extra pass.
            Direct = outStride == 1 && p.Alpha == T.One && T.IsZero(p.Beta),
        };

        T[]? gathered = vectorStride == 1 ? null : ArrayPool<T>.Shared.Rent(p.K);
        T[]? outArray = job.Direct ? null : ArrayPool<T>.Shared.Rent(length);
        try
        {
            fixed (T* g = gathered, o = outArray)
            {
                if (gathered is null)
                {
                    job.X = vector;
                }
                else
                {
                    for (int i = 0; i < p.K; i++) g[i] = vector[i * vectorStride];
                    job.X = g;
                }
                job.Out = job.Direct ? p.C : o;
                int grain = threads > 1 ? (int)Math.Max(1, ParallelElements / Math.Max(1, p.K)) : int.MaxValue;
                ParallelHelper.For(length, grain, job, static (j, start, end) => Range(j, start, end));
            }
        }
        finally
        {
            if (gathered is not null) ArrayPool<T>.Shared.Return(gathered);
            if (outArray is not null) ArrayPool<T>.Shared.Return(outArray);
        }
    }

    /// <summary>Elements [start, end) of the result: compute, combine into C, then the epilogue, while they are in L1.</summary>
    private static void Range<T>(in Job<T> job, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (job.DotForm)
        {
            switch (job.Path)
            {
                case GemmPath.Avx512: DotRows<T, Vector512<T>, Simd512<T>>(job.X, job.Matrix, job.Ld, job.K, job.Out, start, end); break;
                case GemmPath.Avx2: DotRows<T, Vector256<T>, Simd256<T>>(job.X, job.Matrix, job.Ld, job.K, job.Out, start, end); break;
                default: DotRowsScalar(job.X, job.Matrix, job.Ld, job.K, job.Out, start, end); break;
            }
        }
        else
        {
            Axpy(job, start, end);
        }
        nint outStride = job.RowOut ? 1 : job.Ldc;
        if (!job.Direct)
            Combine(job.Alpha, job.Beta, new ReadOnlySpan<T>(job.Out + start, end - start), job.C + start * outStride, outStride, end - start);
        if (job.Epilogue.IsIdentity) return;
        if (job.RowOut) GemmEpilogue.Apply(job.Epilogue, job.C, job.Ldc, 0, 1, start, end);
        else GemmEpilogue.Apply(job.Epilogue, job.C, job.Ldc, start, end, 0, 1);
    }

    /// <summary>
    /// out[j] = Σ_p x[p] · M[j, p] for j in [start, end), at the register width of <typeparamref name="TS"/> (the
    /// AVX-512 and AVX2 paths). Each row keeps two accumulators (even and odd vectors of k), and a block of four rows
    /// shares each load of x: eight independent FMA chains, enough to cover the FMA latency while the rows stream in.
    /// A row is summed in the same order in a block or alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotRows<T, TV, TS>(T* x, T* m, nint ld, int k, T* output, int start, int end)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TS : ISimd<TV, T>
    {
        int w = TS.Count;
        int pairs = k / (2 * w) * (2 * w);
        bool odd = k - pairs >= w;
        int tail = pairs + (odd ? w : 0);
        ref readonly T xr = ref *x;
        int j = start;
        for (; j + 4 <= end; j += 4)
        {
            T* r0 = m + j * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
            ref readonly T q0 = ref *r0, q1 = ref *r1, q2 = ref *r2, q3 = ref *r3;
            TV a0 = TS.Zero, b0 = TS.Zero, a1 = TS.Zero, b1 = TS.Zero, a2 = TS.Zero, b2 = TS.Zero, a3 = TS.Zero, b3 = TS.Zero;
            for (nuint p = 0, pe = (nuint)pairs, pw = (nuint)w; p < pe; p += 2 * pw)
            {
                var x0 = TS.Load(in xr, p);
                var x1 = TS.Load(in xr, p + pw);
                a0 = TS.MultiplyAdd(TS.Load(in q0, p), x0, a0); b0 = TS.MultiplyAdd(TS.Load(in q0, p + pw), x1, b0);
                a1 = TS.MultiplyAdd(TS.Load(in q1, p), x0, a1); b1 = TS.MultiplyAdd(TS.Load(in q1, p + pw), x1, b1);
                a2 = TS.MultiplyAdd(TS.Load(in q2, p), x0, a2); b2 = TS.MultiplyAdd(TS.Load(in q2, p + pw), x1, b2);
                a3 = TS.MultiplyAdd(TS.Load(in q3, p), x0, a3); b3 = TS.MultiplyAdd(TS.Load(in q3, p + pw), x1, b3);
            }
            if (odd)
            {
                var x0 = TS.Load(in xr, (nuint)pairs);
                a0 = TS.MultiplyAdd(TS.Load(in q0, (nuint)pairs), x0, a0);
                a1 = TS.MultiplyAdd(TS.Load(in q1, (nuint)pairs), x0, a1);
                a2 = TS.MultiplyAdd(TS.Load(in q2, (nuint)pairs), x0, a2);
                a3 = TS.MultiplyAdd(TS.Load(in q3, (nuint)pairs), x0, a3);
            }
            output[j] = ScalarTail(x, r0, tail, k, TS.Sum(TS.Add(a0, b0)));
            output[j + 1] = ScalarTail(x, r1, tail, k, TS.Sum(TS.Add(a1, b1)));
            output[j + 2] = ScalarTail(x, r2, tail, k, TS.Sum(TS.Add(a2, b2)));
            output[j + 3] = ScalarTail(x, r3, tail, k, TS.Sum(TS.Add(a3, b3)));
        }
        for (; j < end; j++)
        {
            T* r0 = m + j * ld;
            ref readonly T q0 = ref *r0;
            TV a0 = TS.Zero, b0 = TS.Zero;
            for (nuint p = 0, pe = (nuint)pairs, pw = (nuint)w; p < pe; p += 2 * pw)
            {
                a0 = TS.MultiplyAdd(TS.Load(in q0, p), TS.Load(in xr, p), a0);
                b0 = TS.MultiplyAdd(TS.Load(in q0, p + pw), TS.Load(in xr, p + pw), b0);
            }
            if (odd) a0 = TS.MultiplyAdd(TS.Load(in q0, (nuint)pairs), TS.Load(in xr, (nuint)pairs), a0);
            output[j] = ScalarTail(x, r0, tail, k, TS.Sum(TS.Add(a0, b0)));
        }
    }

    /// <summary>The portable dot form: four rows per pass over x, plain multiply and add as in the scalar GEMM tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotRowsScalar<T>(T* x, T* m, nint ld, int k, T* output, int start, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = start;
        for (; j + 4 <= end; j += 4)
        {
            T* r0 = m + j * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
            T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
            for (int p = 0; p < k; p++)
            {
                T xp = x[p];
                s0 += r0[p] * xp; s1 += r1[p] * xp; s2 += r2[p] * xp; s3 += r3[p] * xp;
            }
            output[j] = s0; output[j + 1] = s1; output[j + 2] = s2; output[j + 3] = s3;
        }
        for (; j < end; j++) output[j] = ScalarTail(x, m + j * ld, 0, k, T.Zero);
    }

    /// <summary>sum + Σ_{p in [from, k)} x[p] · row[p]: the elements after the last full vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ScalarTail<T>(T* x, T* row, int from, int k, T sum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = from; p < k; p++) sum += row[p] * x[p];
        return sum;
    }

    /// <summary>Axpy form, out[start..end): the vector scales rows of M.</summary>
    private static void Axpy<T>(in Job<T> job, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new ReadOnlySpan<T>(job.X, job.K);
        if (end - start < MinAxpyWidth)
        {
            // Too narrow for vector passes over the rows (one call per row would cost more than its work):
            // strided dot products down the columns instead.
            for (int j = start; j < end; j++)
            {
                T sum = T.Zero;
                T* column = job.Matrix + j;
                for (int q = 0; q < job.K; q++) sum += x[q] * column[q * job.Ld];
                job.Out[j] = sum;
            }
            return;
        }
        for (int c0 = start; c0 < end; c0 += AxpyChunk)
        {
            var sums = new Span<T>(job.Out + c0, Math.Min(AxpyChunk, end - c0));
            sums.Clear();
            for (int q = 0; q < job.K; q++)
                TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<T>(job.Matrix + q * job.Ld + c0, sums.Length), x[q], sums, sums);
        }
    }

    /// <summary>C = alpha · out + beta · C over `length` elements `stride` apart; beta == 0 does not read C.</summary>
    private static void Combine<T>(T alpha, T beta, ReadOnlySpan<T> result, T* c, nint stride, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool betaZero = T.IsZero(beta);
        if (stride == 1)
        {
            var row = new Span<T>(c, length);
            if (betaZero)
            {
                TensorPrimitives.Multiply(result, alpha, row);
            }
            else
            {
                TensorPrimitives.Multiply(row, beta, row);
                TensorPrimitives.FusedMultiplyAdd(result, alpha, row, row);
            }
            return;
        }
        for (int i = 0; i < length; i++)
        {
            ref T ci = ref c[i * stride];
            ci = betaZero ? alpha * result[i] : alpha * result[i] + beta * ci;
        }
    }
}
