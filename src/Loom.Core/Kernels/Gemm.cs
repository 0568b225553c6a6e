using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// General matrix multiply, row-major: C = alpha · op(A) · op(B) + beta · C, where op(X) is X or Xᵀ.
/// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are the row strides of A, B and C as stored.
/// Transposes are read in place, never materialised.
/// </summary>
/// <remarks>
/// As in BLAS: with beta == 0, C is only written (NaN in C does not propagate); with alpha == 0 or k == 0, A and B are
/// not read. Cache-blocked and packed (see <see cref="GemmDriver{T, TKernel}"/> and docs/notes/gemm.md), with an
/// AVX-512, an AVX2 and a scalar micro-kernel, multithreaded over <see cref="Threads.Count"/> for large problems.
/// </remarks>
public static class Gemm
{
    /// <summary>Problems below this many flops (2·m·n·k) run on the calling thread: a parallel dispatch costs more.</summary>
    internal const long ParallelThresholdFlops = 1L << 21;

    /// <summary>
    /// Forces one micro-kernel regardless of what the CPU offers (for tests and benchmarks). Forcing a path the CPU
    /// lacks makes GEMM throw <see cref="PlatformNotSupportedException"/>; check <see cref="IsSupported"/> first.
    /// </summary>
    public static GemmPath ForcedPath { get; set; } = GemmPath.Auto;

    /// <summary>Whether this CPU can run <paramref name="path"/>.</summary>
    public static bool IsSupported(GemmPath path) => path switch
    {
        GemmPath.Auto or GemmPath.Scalar => true,
        GemmPath.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        GemmPath.Avx2 => Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported,
        _ => false,
    };

    /// <summary>The path GEMM runs now: <see cref="ForcedPath"/>, or the widest the CPU supports.</summary>
    public static GemmPath ActivePath
    {
        get
        {
            var forced = ForcedPath;
            if (forced == GemmPath.Auto)
                return IsSupported(GemmPath.Avx512) ? GemmPath.Avx512 : IsSupported(GemmPath.Avx2) ? GemmPath.Avx2 : GemmPath.Scalar;
            if (!IsSupported(forced))
                throw new PlatformNotSupportedException($"gemm: forced path {forced} is not supported by this CPU");
            return forced;
        }
    }

    /// <summary>
    /// The cache-block sizes of single-precision GEMM on <see cref="ActivePath"/>: KC, the depth of a packed panel,
    /// and NC, the width of the packed B block each thread keeps in its L2. Public only so that the <c>sgemm</c>
    /// benchmark (<c>loom bench kernels</c> with <c>LOOM_GEMM_SWEEP=1</c>) can sweep them on the machine at hand,
    /// which is how the defaults were chosen (docs/notes/gemm.md); setting them changes every later float32 GEMM on
    /// that path in this process, and any positive values give correct results.
    /// </summary>
    public static (int Kc, int Nc) SgemmBlocking
    {
        get
        {
            var b = ActivePath switch
            {
                GemmPath.Avx512 => GemmDriver<float, GemmKernelAvx512<float>>.Blocking,
                GemmPath.Avx2 => GemmDriver<float, GemmKernelAvx2<float>>.Blocking,
                _ => GemmDriver<float, GemmKernelScalar<float>>.Blocking,
            };
            return (b.Kc, b.Nc);
        }
        set
        {
            if (value.Kc <= 0 || value.Nc <= 0)
                throw new ArgumentOutOfRangeException(nameof(value), value, "sgemm: block sizes KC and NC must be positive");
            switch (ActivePath)
            {
                case GemmPath.Avx512:
                    GemmDriver<float, GemmKernelAvx512<float>>.Blocking = GemmDriver<float, GemmKernelAvx512<float>>.Blocking with { Kc = value.Kc, Nc = value.Nc };
                    break;
                case GemmPath.Avx2:
                    GemmDriver<float, GemmKernelAvx2<float>>.Blocking = GemmDriver<float, GemmKernelAvx2<float>>.Blocking with { Kc = value.Kc, Nc = value.Nc };
                    break;
                default:
                    GemmDriver<float, GemmKernelScalar<float>>.Blocking = GemmDriver<float, GemmKernelScalar<float>>.Blocking with { Kc = value.Kc, Nc = value.Nc };
                    break;
            }
        }
    }

    /// <summary>Single-precision GEMM (the fast path).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Run("sgemm", transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);

    /// <summary>Double-precision GEMM (gradient checks); the same blocked algorithm on Vector512&lt;double&gt;.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
        => Run("dgemm", transA, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);

    /// <summary>
    /// <paramref name="batchCount"/> independent single-precision GEMMs: matrix i of A starts at a[i · strideA], of B at
    /// b[i · strideB], of C at c[i · strideC]. A stride of 0 broadcasts that operand to every batch; C's matrices must
    /// not overlap.
    /// </summary>
    public static void SgemmBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, int strideA, ReadOnlySpan<float> b, int ldb, int strideB,
        float beta, Span<float> c, int ldc, int strideC, int batchCount)
        => Run("sgemm_batched", transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batchCount);

    /// <summary>Double-precision <see cref="SgemmBatched"/>.</summary>
    public static void DgemmBatched(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, int strideA, ReadOnlySpan<double> b, int ldb, int strideB,
        double beta, Span<double> c, int ldc, int strideC, int batchCount)
        => Run("dgemm_batched", transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batchCount);

    /// <summary>
    /// C = op(A) · op(B), then C[i, j] += bias[j] and the activation, applied to each block of C as the GEMM finishes
    /// it (the fused forward of a linear layer). With a non-empty <paramref name="activated"/> (same layout as C), C
    /// keeps the pre-activation values and the activation goes there; otherwise C is activated in place. An empty
    /// <paramref name="bias"/> adds nothing.
    /// </summary>
    internal static void GemmBiasActivation<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc,
        ReadOnlySpan<T> bias, Activation activation, Span<T> activated)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "gemm_bias_activation";
        if (!bias.IsEmpty && bias.Length < n)
            throw new ArgumentException($"{op}: bias has {bias.Length} elements, C has {n} columns");
        long cExtent = m == 0 || n == 0 ? 0 : (long)(m - 1) * ldc + n;
        if (!activated.IsEmpty && activated.Length < cExtent)
            throw new ArgumentException($"{op}: the activation output has {activated.Length} elements, C [{m}, {n}] with ldc {ldc} needs {cExtent}");
        Run(op, transA, transB, m, n, k, T.One, a, lda, 0, b, ldb, 0, T.Zero, c, ldc, 0, 1, bias, activation, activated);
    }

    /// <summary>
    /// C = alpha · Aᵀ · op(B) + beta · C with A stored [k, m], and <paramref name="columnSumsOfA"/>[i] += Σ_p A[p, i],
    /// added a row of A at a time in order of p (the bits of summing A's rows one after the other), as GEMM packs those
    /// rows, on the thread that packs them: the bias gradient of a linear layer beside its weight gradient dyᵀ·x,
    /// without a pass over dy of its own.
    /// </summary>
    internal static void GemmTransposedAWithColumnSums<T>(bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, Span<T> columnSumsOfA)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string op = "gemm_column_sums";
        if (columnSumsOfA.Length < m)
            throw new ArgumentException($"{op}: the column sums have {columnSumsOfA.Length} elements, Aᵀ has {m} rows");
        if (n == 0)
        {
            // No product to pack A for.
            for (int p = 0; p < k; p++) TensorPrimitives.Add(columnSumsOfA[..m], a.Slice(p * lda, m), columnSumsOfA[..m]);
            return;
        }
        Run(op, true, transB, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1, rowSumsOfA: columnSumsOfA);
    }

    /// <summary>Adds rows [p0, p0 + depth) of the stored A (op(A) = Aᵀ), columns [i0, i0 + rows), to the problem's row sums of op(A), in order of p.</summary>
    internal static unsafe void AddToRowSumsOfA<T>(in GemmProblem<T> p, int i0, int rows, int p0, int depth)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sums = new Span<T>(p.RowSumsOfA + i0, rows);
        for (int q = p0; q < p0 + depth; q++)
            TensorPrimitives.Add(sums, new ReadOnlySpan<T>(p.A + q * p.Lda + i0, rows), sums);
    }

    private static unsafe void Run<T>(string op, bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, int strideA, ReadOnlySpan<T> b, int ldb, int strideB,
        T beta, Span<T> c, int ldc, int strideC, int batchCount,
        ReadOnlySpan<T> bias = default, Activation activation = Activation.None, Span<T> activated = default,
        Span<T> rowSumsOfA = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(op, transA, transB, m, n, k, a.Length, lda, strideA, b.Length, ldb, strideB, c.Length, ldc, strideC, batchCount);
        if (m == 0 || n == 0 || batchCount == 0) return;
        var path = ActivePath;
        fixed (T* pa = a, pb = b, pc = c, pBias = bias, pActivated = activated, pSums = rowSumsOfA)
        {
            var problem = new GemmProblem<T>
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                A = pa, B = pb, C = pc, Lda = lda, Ldb = ldb, Ldc = ldc,
                Epilogue = new GemmEpilogue<T> { Bias = pBias, Activation = activation, Activated = pActivated },
                RowSumsOfA = pSums,
            };
            long flops = 2L * m * n * k;
            // A matrix-vector product (batch-1 decoding) is bound by memory, not by FMAs: GemmVector splits it by its own
            // grain, 64 Ki matrix elements per thread, far below this threshold (2 threads: gpt-small's decoding step
            // 2.45 → 1.43 ms, each core streaming half of every weight matrix from its own L2).
            int threads = flops < ParallelThresholdFlops && !(batchCount == 1 && GemmVector.Applies(problem)) ? 1 : Threads.Count;
            if (batchCount == 1 || threads > 1 && flops >= 4 * ParallelThresholdFlops)
            {
                // Each matrix is big enough to use every thread by itself.
                for (int i = 0; i < batchCount; i++)
                    Dispatch(path, problem.Batch(i, strideA, strideB, strideC), threads);
            }
            else
            {
                RunBatchOverThreads(path, problem, strideA, strideB, strideC, batchCount, flops);
            }
        }
    }

    /// <summary>Many small matrices: one thread per matrix, threads over the batch.</summary>
    private static void RunBatchOverThreads<T>(GemmPath path, in GemmProblem<T> problem, int strideA, int strideB, int strideC,
        int batchCount, long flops)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int grain = (int)Math.Clamp(ParallelThresholdFlops / Math.Max(1, flops), 1, batchCount);
        var job = new BatchJob<T>(path, problem, strideA, strideB, strideC);
        Threading.ParallelHelper.For(batchCount, grain, job, static (j, first, end) =>
        {
            for (int i = first; i < end; i++) Dispatch(j.Path, j.Problem.Batch(i, j.StrideA, j.StrideB, j.StrideC), 1);
        });
    }

    private readonly struct BatchJob<T>(GemmPath path, GemmProblem<T> problem, int strideA, int strideB, int strideC)
        where T : unmanaged
    {
        public readonly GemmPath Path = path;
        public readonly GemmProblem<T> Problem = problem;
        public readonly int StrideA = strideA, StrideB = strideB, StrideC = strideC;
    }

    private static unsafe void Dispatch<T>(GemmPath path, in GemmProblem<T> p, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p.RowSumsOfA != null && (p.K == 0 || T.IsZero(p.Alpha) || GemmVector.Applies(p)))
        {
            // These paths do not pack A (or do not read it): sum its rows here.
            AddToRowSumsOfA(p, 0, p.M, 0, p.K);
            var rest = p;
            rest.RowSumsOfA = null;
            Dispatch(path, rest, threads);
            return;
        }
        if (p.K == 0 || T.IsZero(p.Alpha))
        {
            ScaleC(p);
            if (!p.Epilogue.IsIdentity) GemmEpilogue.Apply(p.Epilogue, p.C, p.Ldc, 0, p.M, 0, p.N);
            return;
        }
        if (GemmVector.Applies(p))
        {
            GemmVector.Run(p, threads, path);
            return;
        }
        switch (path)
        {
            case GemmPath.Avx512: GemmDriver<T, GemmKernelAvx512<T>>.Run(p, threads); break;
            case GemmPath.Avx2: GemmDriver<T, GemmKernelAvx2<T>>.Run(p, threads); break;
            default: GemmDriver<T, GemmKernelScalar<T>>.Run(p, threads); break;
        }
    }

    /// <summary>C = beta · C, the whole product when alpha or k is zero; beta == 0 writes zeros without reading C.</summary>
    private static unsafe void ScaleC<T>(in GemmProblem<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.M; i++)
        {
            var row = new Span<T>(p.C + i * p.Ldc, p.N);
            if (T.IsZero(p.Beta)) row.Clear();
            else if (p.Beta != T.One) System.Numerics.Tensors.TensorPrimitives.Multiply(row, p.Beta, row);
        }
    }

    private static void Validate(string op, bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int strideA, int bLength, int ldb, int strideB, int cLength, int ldc, int strideC, int batchCount)
    {
        if (m < 0 || n < 0 || k < 0 || batchCount < 0)
            throw new ArgumentException($"{op}: sizes must not be negative (m {m}, n {n}, k {k}, batch {batchCount})");
        if (strideA < 0 || strideB < 0 || strideC < 0)
            throw new ArgumentException($"{op}: strides must not be negative (A {strideA}, B {strideB}, C {strideC})");
        CheckOperand(op, "A", transA ? k : m, transA ? m : k, transA, aLength, lda, "lda", strideA, batchCount);
        CheckOperand(op, "B", transB ? n : k, transB ? k : n, transB, bLength, ldb, "ldb", strideB, batchCount);
        CheckOperand(op, "C", m, n, false, cLength, ldc, "ldc", strideC, batchCount);
        long cExtent = m == 0 || n == 0 ? 0 : (long)(m - 1) * ldc + n;
        if (batchCount > 1 && strideC < cExtent)
            throw new ArgumentException($"{op}: C matrices [{m}, {n}] with ldc {ldc} overlap at strideC {strideC} (needs at least {cExtent})");
    }

    /// <summary>Checks that a stored rows×cols matrix with row stride `ld` fits, for every batch, in its span.</summary>
    private static void CheckOperand(string op, string name, int rows, int cols, bool trans, int length, int ld, string ldName,
        int stride, int batchCount)
    {
        if (ld < cols)
            throw new ArgumentException($"{op}: {Describe(name, trans, rows, cols)} needs {ldName} >= {cols}, got {ld}");
        if (rows == 0 || cols == 0 || batchCount == 0) return;
        long needed = (long)(batchCount - 1) * stride + (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"{op}: {Describe(name, trans, rows, cols)} with {ldName} {ld}" +
                $"{(batchCount > 1 ? $", stride {stride}, batch {batchCount}" : "")} needs {needed} elements, span has {length}");
    }

    private static string Describe(string name, bool trans, int rows, int cols) => $"{name}{(trans ? "ᵀ" : "")} stored as [{rows}, {cols}]";
}
