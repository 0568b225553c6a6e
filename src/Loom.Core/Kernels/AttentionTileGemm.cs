using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels;

/// <summary>
/// The small float products of fused attention's tiles (64 queries × up to 256 keys, or 128 × 128 at T ≤ 128, × a head of 64), read in place:
/// C[m×n] = alpha · A · B + beta · C, where element (i, p) of A is a[i·aRow + p·aCol] (so Q, dO, P and dS as stored,
/// and Pᵀ, dSᵀ by swapping the strides) and row p of B is the n contiguous values at b + p·ldb (V, K, Q and dO rows
/// straight from the projections, or a head's Kᵀ / Vᵀ transposed once per head by the caller).
/// </summary>
/// <remarks>
/// Why not <see cref="Gemm"/>: its blocked algorithm packs both operands on every call, which pays at 1024-row
/// products and not at 64×128×64 ones: a GPT 4L training step makes ~1,800 such calls and ran them at ~68 GFLOP/s,
/// a third of the FMA peak (docs/notes/transformer-speed.md). Here A is broadcast straight from its rows (they sit in
/// L1: 64 rows × 64 values is 16 KiB) and B's rows are loaded as vectors where they lie, so nothing is copied.
/// The tile is 8 rows × 32 columns: 16 accumulators (4-cycle FMA latency on 2 pipes needs ≥ 8 chains) against
/// 2 vector loads and 8 broadcasts per step of k; 8 rows divide the 64-query tile, where GEMM's 12-row panels leave
/// a 4-row edge tile. AVX-512 and n a multiple of 16 only (<see cref="Fits"/>); other cases go through GEMM.
/// Every element of C is one chain of FMAs in the order of p, whatever the tile it falls in.
/// </remarks>
internal static unsafe class AttentionTileGemm
{
    private const int Lanes = 16;

    /// <summary>Whether the products of a head of <paramref name="headDim"/> can run here (GEMM's forced path is honoured).</summary>
    public static bool Fits(int headDim) =>
        headDim % Lanes == 0 && Gemm.ActivePath == GemmPath.Avx512;

    /// <summary>
    /// C = alpha·A·B + beta·C (beta == 0: C is only written); n must be a multiple of 16. With a causal
    /// <paramref name="skip"/>, the work a causal mask makes zero is left out, block of 8 rows by block (see
    /// <see cref="CausalSkip"/>; <paramref name="diagonal"/> places the diagonal).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int m, int n, int k, float alpha, float* a, nint aRow, nint aCol, float* b, nint ldb, float beta, float* c, nint ldc,
        CausalSkip skip = CausalSkip.None, int diagonal = 0)
    {
        if (n % Lanes != 0)
            throw new ArgumentException($"attention tile product: n = {n} is not a multiple of {Lanes}");
        for (int i = 0; i < m;)
        {
            int rows = m - i >= 8 ? 8 : 1;
            int columns = n, first = 0, last = k;
            switch (skip)
            {
                case CausalSkip.ColumnsPastDiagonal:
                    columns = Math.Min(n, (int)Math.Max(0, ((long)i + rows + diagonal + Lanes - 1) / Lanes * Lanes));
                    break;
                case CausalSkip.DepthPastDiagonal:
                    last = Math.Clamp(i + rows + diagonal, 0, k);
                    break;
                case CausalSkip.DepthBeforeDiagonal:
                    first = Math.Clamp(i + diagonal, 0, k);
                    break;
            }
            int depth = Math.Max(0, last - first);
            float* ai = a + i * aRow + first * aCol, bi = b + first * ldb;
            float* ci = c + i * ldc;
            if (rows == 8)
            {
                int j = 0;
                for (; j + 2 * Lanes <= columns; j += 2 * Lanes)
                    Rows8x32(depth, ai, aRow, aCol, bi + j, ldb, ci + j, ldc, alpha, beta);
                if (j < columns)
                    Rows8x16(depth, ai, aRow, aCol, bi + j, ldb, ci + j, ldc, alpha, beta);
            }
            else
            {
                for (int j = 0; j < columns; j += Lanes)
                    Row1x16(depth, ai, aCol, bi + j, ldb, ci + j, alpha, beta);
            }
            i += rows;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8x32(nint k, float* a, nint r1, nint ac, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default;
        Vector512<float> c2a = default, c2b = default, c3a = default, c3b = default;
        Vector512<float> c4a = default, c4b = default, c5a = default, c5b = default;
        Vector512<float> c6a = default, c6b = default, c7a = default, c7b = default;
        // Rows 0–3 from a, rows 4–7 from a4: base + index·scale addressing with three row offsets, so the loop keeps
        // its pointers in registers instead of eight of them.
        nint r2 = 2 * r1, r3 = 3 * r1;
        float* a4 = a + 4 * r1;
        for (nint p = 0; p < k; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + Lanes);
            Vector512<float> x;
            x = Vector512.Create(a[0]); c0a = Avx512F.FusedMultiplyAdd(x, b0, c0a); c0b = Avx512F.FusedMultiplyAdd(x, b1, c0b);
            x = Vector512.Create(a[r1]); c1a = Avx512F.FusedMultiplyAdd(x, b0, c1a); c1b = Avx512F.FusedMultiplyAdd(x, b1, c1b);
            x = Vector512.Create(a[r2]); c2a = Avx512F.FusedMultiplyAdd(x, b0, c2a); c2b = Avx512F.FusedMultiplyAdd(x, b1, c2b);
            x = Vector512.Create(a[r3]); c3a = Avx512F.FusedMultiplyAdd(x, b0, c3a); c3b = Avx512F.FusedMultiplyAdd(x, b1, c3b);
            x = Vector512.Create(a4[0]); c4a = Avx512F.FusedMultiplyAdd(x, b0, c4a); c4b = Avx512F.FusedMultiplyAdd(x, b1, c4b);
            x = Vector512.Create(a4[r1]); c5a = Avx512F.FusedMultiplyAdd(x, b0, c5a); c5b = Avx512F.FusedMultiplyAdd(x, b1, c5b);
            x = Vector512.Create(a4[r2]); c6a = Avx512F.FusedMultiplyAdd(x, b0, c6a); c6b = Avx512F.FusedMultiplyAdd(x, b1, c6b);
            x = Vector512.Create(a4[r3]); c7a = Avx512F.FusedMultiplyAdd(x, b0, c7a); c7b = Avx512F.FusedMultiplyAdd(x, b1, c7b);
            a += ac;
            a4 += ac;
            b += ldb;
        }
        Store(c, c0a, alpha, beta); Store(c + Lanes, c0b, alpha, beta); c += ldc;
        Store(c, c1a, alpha, beta); Store(c + Lanes, c1b, alpha, beta); c += ldc;
        Store(c, c2a, alpha, beta); Store(c + Lanes, c2b, alpha, beta); c += ldc;
        Store(c, c3a, alpha, beta); Store(c + Lanes, c3b, alpha, beta); c += ldc;
        Store(c, c4a, alpha, beta); Store(c + Lanes, c4b, alpha, beta); c += ldc;
        Store(c, c5a, alpha, beta); Store(c + Lanes, c5b, alpha, beta); c += ldc;
        Store(c, c6a, alpha, beta); Store(c + Lanes, c6b, alpha, beta); c += ldc;
        Store(c, c7a, alpha, beta); Store(c + Lanes, c7b, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8x16(nint k, float* a, nint r1, nint ac, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        nint r2 = 2 * r1, r3 = 3 * r1;
        float* a4 = a + 4 * r1;
        for (nint p = 0; p < k; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[r1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[r2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[r3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[0]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[r1]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[r2]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[r3]), b0, c7);
            a += ac;
            a4 += ac;
            b += ldb;
        }
        Store(c, c0, alpha, beta); c += ldc;
        Store(c, c1, alpha, beta); c += ldc;
        Store(c, c2, alpha, beta); c += ldc;
        Store(c, c3, alpha, beta); c += ldc;
        Store(c, c4, alpha, beta); c += ldc;
        Store(c, c5, alpha, beta); c += ldc;
        Store(c, c6, alpha, beta); c += ldc;
        Store(c, c7, alpha, beta);
    }

    /// <summary>The rows left under 8 (a last query tile of T mod 64, a key count that is no multiple of 8): one chain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row1x16(nint k, float* a, nint ac, float* b, nint ldb, float* c, float alpha, float beta)
    {
        Vector512<float> acc = default;
        for (nint p = 0; p < k; p++, a += ac, b += ldb)
            acc = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), Vector512.Load(b), acc);
        Store(c, acc, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> sum, float alpha, float beta)
    {
        var scaled = sum * Vector512.Create(alpha);
        if (beta == 0)
            Vector512.Store(scaled, c);
        else
            Vector512.Store(Avx512F.FusedMultiplyAdd(Vector512.Create(beta), Vector512.Load(c), scaled), c);
    }
}

/// <summary>
/// The part of a causal attention tile that is zero, so that <see cref="AttentionTileGemm"/> does not compute it.
/// Rows i of C and steps p of the depth are counted from the tile's corner; the diagonal is where key = query.
/// </summary>
internal enum CausalSkip
{
    None,

    /// <summary>C's columns j > i + diagonal are not needed (scores of keys after the query: Q·Kᵀ, dO·Vᵀ); they are left unwritten, cut at whole vectors.</summary>
    ColumnsPastDiagonal,

    /// <summary>A(i, p) = 0 for p > i + diagonal (weights of keys after the query: P·V, dS·K).</summary>
    DepthPastDiagonal,

    /// <summary>A(i, p) = 0 for p &lt; i + diagonal (the transposed weights: Pᵀ·dO, dSᵀ·Q, row i a key, p a query).</summary>
    DepthBeforeDiagonal,
}
