using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Loom.Threading;

namespace Loom.Kernels;

/// <summary>
/// GEMM with a single output row or column (m == 1 or n == 1: batch-1 inference, a bias gradient, generation with a
/// KV cache) is a matrix-vector product. Packing would copy the whole matrix to use each element once, so these shapes
/// skip the blocked driver and stream the matrix once, in one of two forms:
/// <code>
/// dot form:   out[j] = Σ_p x[p] · M[j, p]     (the vector runs along the stored rows of M)
/// axpy form:  out[j] = Σ_p x[p] · M[p, j]     (it runs across them: scaled rows summed into out)
/// </code>
/// then C = alpha · out + beta · C. Both are memory-bound, so they use TensorPrimitives whatever <see cref="Gemm.ForcedPath"/>
/// says. Threads take disjoint ranges of j and sum in the same order, so results do not depend on the thread count.
/// </summary>
internal static unsafe class GemmVector
{
    /// <summary>Axpy-form columns per pass: the running sums stay in L1 while the rows stream past.</summary>
    private const int AxpyChunk = 2048;

    /// <summary>Narrower than this, the axpy form runs as strided column sums.</summary>
    private const int MinAxpyWidth = 16;

    public static bool Applies<T>(in GemmProblem<T> p) where T : unmanaged => p.M == 1 || p.N == 1;

    private struct Job<T> where T : unmanaged
    {
        public T* X;          // the vector, contiguous, k long
        public T* Matrix;     // M, stored row-major with row stride Ld
        public nint Ld;
        public int K;
        public bool DotForm;
        public T* Out;        // the length-n (or m) result before alpha/beta
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(in GemmProblem<T> p, int threads) where T : unmanaged, IFloatingPointIeee754<T>
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
        };

        T[]? gathered = vectorStride == 1 ? null : ArrayPool<T>.Shared.Rent(p.K);
        T[] outArray = ArrayPool<T>.Shared.Rent(length);
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
                job.Out = o;
                int grain = threads > 1 ? (int)Math.Max(1, Gemm.ParallelThresholdFlops / 2 / Math.Max(1, p.K)) : int.MaxValue;
                ParallelHelper.For(length, grain, job, static (j, start, end) => Compute(j, start, end));
                Combine(p.Alpha, p.Beta, new ReadOnlySpan<T>(o, length), p.C, outStride, length);
            }
        }
        finally
        {
            if (gathered is not null) ArrayPool<T>.Shared.Return(gathered);
            ArrayPool<T>.Shared.Return(outArray);
        }
    }

    /// <summary>out[start..end).</summary>
    private static void Compute<T>(in Job<T> job, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new ReadOnlySpan<T>(job.X, job.K);
        if (job.DotForm)
        {
            for (int j = start; j < end; j++)
                job.Out[j] = TensorPrimitives.Dot(x, new ReadOnlySpan<T>(job.Matrix + j * job.Ld, job.K));
            return;
        }
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
