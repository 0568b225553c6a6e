namespace Loom.Kernels;

/// <summary>
/// A right GEMM operand op(B) [k, n] (a layer's weight in x · W, stored [k, n], or [n, k] and used transposed) packed
/// once into the panels the blocked driver streams, for products A · B with many different A: inference through a
/// fixed layer. The packing belongs to the micro-kernel path and depth block it was made for; <see cref="Matches"/>
/// says whether it still fits what GEMM would run now.
/// </summary>
internal sealed unsafe class PackedGemmB<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _array; // pinned (allocated on the pinned heap), so _data stays valid
    private readonly T* _data;

    public int K { get; }
    public int N { get; }
    public GemmPath Path { get; }
    public int Kc { get; }

    public PackedGemmB(bool transB, ReadOnlySpan<T> b, int k, int n, int ldb)
    {
        if (k <= 0 || n <= 0) throw new ArgumentException($"gemm: a packed B must be non-empty, got [{k}, {n}]");
        int rows = transB ? n : k, cols = transB ? k : n;
        if (ldb < cols || b.Length < (long)(rows - 1) * ldb + cols)
            throw new ArgumentException($"gemm: B{(transB ? "ᵀ" : "")} stored as [{rows}, {cols}] with ldb {ldb} needs {(long)(rows - 1) * ldb + cols} elements, span has {b.Length}");
        K = k;
        N = n;
        Path = Gemm.ActivePath;
        var (nr, kc) = Geometry(Path, k);
        Kc = kc;
        long length = (long)(n + nr - 1) / nr * nr * k;
        _array = GC.AllocateUninitializedArray<T>(checked((int)length + 64 / sizeof(T)), pinned: true);
        fixed (T* raw = _array) _data = (T*)(((nint)raw + 63) & ~(nint)63);
        fixed (T* pb = b)
        {
            switch (Path)
            {
                case GemmPath.Avx512: GemmDriver<T, GemmKernelAvx512<T>>.PackWholeB(transB, pb, ldb, k, n, kc, _data); break;
                case GemmPath.Avx2: GemmDriver<T, GemmKernelAvx2<T>>.PackWholeB(transB, pb, ldb, k, n, kc, _data); break;
                default: GemmDriver<T, GemmKernelScalar<T>>.PackWholeB(transB, pb, ldb, k, n, kc, _data); break;
            }
        }
    }

    /// <summary>
    /// The packed panels: depth blocks of <see cref="Kc"/> (the last may be shorter), each ⌈N/NR⌉ panels of kcCur × NR,
    /// block pc starting at ⌈N/NR⌉·NR·pc. For a caller that runs the micro-kernel on them itself (the Winograd
    /// convolution, whose left operand is already in a layout the kernel can read).
    /// </summary>
    public T* Panels => _data;

    /// <summary>Bytes held by the packed panels.</summary>
    public long SizeInBytes => (long)_array.Length * sizeof(T);

    /// <summary>Whether GEMM would run this packing now: same micro-kernel path and depth block (both are settable for tests and sweeps).</summary>
    public bool Matches => Gemm.ActivePath == Path && Geometry(Path, K).Kc == Kc;

    private static (int Nr, int Kc) Geometry(GemmPath path, int k) => path switch
    {
        GemmPath.Avx512 => (GemmKernelAvx512<T>.NR, GemmDriver<T, GemmKernelAvx512<T>>.DepthBlock(k)),
        GemmPath.Avx2 => (GemmKernelAvx2<T>.NR, GemmDriver<T, GemmKernelAvx2<T>>.DepthBlock(k)),
        _ => (GemmKernelScalar<T>.NR, GemmDriver<T, GemmKernelScalar<T>>.DepthBlock(k)),
    };

    /// <summary>
    /// C = A · B, then C[i, j] += bias[j] and the activation, for A [m, k] with row stride <paramref name="lda"/> and C
    /// [m, n] with row stride <paramref name="ldc"/>; the same bits as GEMM with the same epilogue on the unpacked B,
    /// for m ≥ 2 (a single row is a matrix-vector product that GEMM runs from B as stored: see <see cref="GemmVector"/>).
    /// Requires <see cref="Matches"/>. Not <paramref name="parallel"/>: on the calling thread only (a caller that splits
    /// its own work over the threads, as the Winograd convolution does).
    /// </summary>
    public void Multiply(int m, ReadOnlySpan<T> a, int lda, Span<T> c, int ldc, ReadOnlySpan<T> bias = default, Activation activation = Activation.None,
        bool parallel = true)
    {
        if (!Matches) throw new InvalidOperationException($"gemm: B was packed for {Path} and depth block {Kc}; GEMM now runs {Gemm.ActivePath}");
        if (m == 0) return;
        if (m < 0 || lda < K || a.Length < (long)(m - 1) * lda + K)
            throw new ArgumentException($"gemm: A [{m}, {K}] with lda {lda} needs {(long)(m - 1) * lda + K} elements, span has {a.Length}");
        if (ldc < N || c.Length < (long)(m - 1) * ldc + N)
            throw new ArgumentException($"gemm: C [{m}, {N}] with ldc {ldc} needs {(long)(m - 1) * ldc + N} elements, span has {c.Length}");
        if (!bias.IsEmpty && bias.Length < N) throw new ArgumentException($"gemm: bias has {bias.Length} elements, C has {N} columns");
        long flops = 2L * m * N * K;
        int threads = !parallel || flops < Gemm.ParallelThresholdFlops ? 1 : Threads.Count;
        fixed (T* pa = a, pc = c, pBias = bias)
        {
            var problem = new GemmProblem<T>
            {
                M = m, N = N, K = K, Alpha = T.One, Beta = T.Zero,
                A = pa, C = pc, Lda = lda, Ldc = ldc,
                Epilogue = new GemmEpilogue<T> { Bias = pBias, Activation = activation },
            };
            switch (Path)
            {
                case GemmPath.Avx512: GemmDriver<T, GemmKernelAvx512<T>>.RunPackedB(problem, _data, Kc, threads); break;
                case GemmPath.Avx2: GemmDriver<T, GemmKernelAvx2<T>>.RunPackedB(problem, _data, Kc, threads); break;
                default: GemmDriver<T, GemmKernelScalar<T>>.RunPackedB(problem, _data, Kc, threads); break;
            }
        }
    }
}
