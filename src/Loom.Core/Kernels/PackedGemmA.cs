namespace Loom.Kernels;

/// <summary>
/// A left GEMM operand A [m, k] (row-major, as a layer's weight matrix) packed once into the panels the blocked
/// driver streams, for products A · B with many different B: inference through a fixed layer. ONNX Runtime packs its
/// weights once per session for the same reason. The packing belongs to the micro-kernel path and depth block it was
/// made for; <see cref="Matches"/> says whether it still fits what GEMM would run now.
/// </summary>
internal sealed unsafe class PackedGemmA<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _array; // pinned (allocated on the pinned heap), so _data stays valid
    private readonly T* _data;

    public int M { get; }
    public int K { get; }
    public GemmPath Path { get; }
    public int Kc { get; }

    public PackedGemmA(ReadOnlySpan<T> a, int m, int k, int lda)
    {
        if (m <= 0 || k <= 0) throw new ArgumentException($"gemm: a packed A must be non-empty, got [{m}, {k}]");
        if (lda < k || a.Length < (long)(m - 1) * lda + k)
            throw new ArgumentException($"gemm: A [{m}, {k}] with lda {lda} needs {(long)(m - 1) * lda + k} elements, span has {a.Length}");
        M = m;
        K = k;
        Path = Gemm.ActivePath;
        var (mr, kc) = Geometry(Path, k);
        Kc = kc;
        long length = (long)(m + mr - 1) / mr * mr * k;
        _array = GC.AllocateUninitializedArray<T>(checked((int)length + 64 / sizeof(T)), pinned: true);
        fixed (T* raw = _array) _data = (T*)(((nint)raw + 63) & ~(nint)63);
        fixed (T* pa = a)
        {
            switch (Path)
            {
                case GemmPath.Avx512: GemmDriver<T, GemmKernelAvx512<T>>.PackWholeA(false, pa, lda, m, k, kc, _data); break;
                case GemmPath.Avx2: GemmDriver<T, GemmKernelAvx2<T>>.PackWholeA(false, pa, lda, m, k, kc, _data); break;
                default: GemmDriver<T, GemmKernelScalar<T>>.PackWholeA(false, pa, lda, m, k, kc, _data); break;
            }
        }
    }

    /// <summary>Bytes held by the packed panels.</summary>
    public long SizeInBytes => (long)_array.Length * sizeof(T);

    /// <summary>Whether GEMM would run this packing now: same micro-kernel path and depth block (both are settable for tests and sweeps).</summary>
    public bool Matches => Gemm.ActivePath == Path && Geometry(Path, K).Kc == Kc;

    private static (int Mr, int Kc) Geometry(GemmPath path, int k) => path switch
    {
        GemmPath.Avx512 => (GemmKernelAvx512<T>.MR, GemmDriver<T, GemmKernelAvx512<T>>.DepthBlock(k)),
        GemmPath.Avx2 => (GemmKernelAvx2<T>.MR, GemmDriver<T, GemmKernelAvx2<T>>.DepthBlock(k)),
        _ => (GemmKernelScalar<T>.MR, GemmDriver<T, GemmKernelScalar<T>>.DepthBlock(k)),
    };

    /// <summary>
    /// C = A · B (or C += A · B when <paramref name="accumulate"/>) for B [k, n] with row stride <paramref name="ldb"/>
    /// and C [m, n] with row stride <paramref name="ldc"/>; the same bits as <see cref="TypedGemm.Run{T}"/> on the
    /// unpacked A. Requires <see cref="Matches"/>.
    /// </summary>
    public void Multiply(int n, ReadOnlySpan<T> b, int ldb, bool accumulate, Span<T> c, int ldc)
    {
        if (!Matches) throw new InvalidOperationException($"gemm: A was packed for {Path} and depth block {Kc}; GEMM now runs {Gemm.ActivePath}");
        if (n == 0) return;
        if (ldb < n || b.Length < (long)(K - 1) * ldb + n)
            throw new ArgumentException($"gemm: B [{K}, {n}] with ldb {ldb} needs {(long)(K - 1) * ldb + n} elements, span has {b.Length}");
        if (ldc < n || c.Length < (long)(M - 1) * ldc + n)
            throw new ArgumentException($"gemm: C [{M}, {n}] with ldc {ldc} needs {(long)(M - 1) * ldc + n} elements, span has {c.Length}");
        long flops = 2L * M * n * K;
        int threads = flops < Gemm.ParallelThresholdFlops ? 1 : Threads.Count;
        fixed (T* pb = b, pc = c)
        {
            var problem = new GemmProblem<T>
            {
                M = M, N = n, K = K, Alpha = T.One, Beta = accumulate ? T.One : T.Zero,
                B = pb, C = pc, Ldb = ldb, Ldc = ldc,
            };
            switch (Path)
            {
                case GemmPath.Avx512: GemmDriver<T, GemmKernelAvx512<T>>.RunPackedA(problem, _data, Kc, threads); break;
                case GemmPath.Avx2: GemmDriver<T, GemmKernelAvx2<T>>.RunPackedA(problem, _data, Kc, threads); break;
                default: GemmDriver<T, GemmKernelScalar<T>>.RunPackedA(problem, _data, Kc, threads); break;
            }
        }
    }
}
