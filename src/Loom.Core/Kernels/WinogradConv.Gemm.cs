namespace Loom.Kernels;

// The 16 products of a block, M_ξ = V_ξ · U_ξ, without packing V_ξ. GEMM's own driver copies its left operand into
// panels of 12 rows (for each step of depth, the 12 rows' values side by side) before it multiplies; at Cin = Cout =
// 64–128 that copy was a pass over V as long as a good part of the product. Here the input transform writes V by
// channel blocks instead, [Cin / 16][tiles][16]: the 12 values the kernel broadcasts at one step of depth are then
// 16 floats (one cache line) apart, a fixed offset from one pointer, and the transform's stores stay whole vectors.
// The loops, tiles and depth blocks are those of GEMM on the packed right operand (GemmDriver.RunBlocked with
// PackedGemmB's panels: one column panel at a time against every row tile, depth blocks of Kc accumulated in C), and
// each element is the same chain of fused multiply-adds from zero, so M has the same bits as GEMM gives.
internal static unsafe partial class WinogradConv
{
    /// <summary>Columns of the AVX-512 register tile: two vectors (PackedGemmB's panel width on that path).</summary>
    private const int Columns = 2 * Lanes;

    /// <summary>
    /// <see cref="MultiplyBlocked(int, float*, nint, PackedGemmB{float}, float*, int, int, int)"/> on spans, their sizes checked
    /// (the kernel reads whole register-tile rows of every channel block of V).
    /// </summary>
    internal static void MultiplyBlocked(int m, ReadOnlySpan<float> v, int blockStride, PackedGemmB<float> u, Span<float> c, int ldc)
    {
        if (u.Path != GemmPath.Avx512 || !u.Matches) throw new ArgumentException("winograd: U must be packed for the AVX-512 path GEMM runs now");
        if (m <= 0 || ldc < u.N || blockStride < RowsOf(m) * Lanes || u.K % Lanes != 0
            || v.Length < (long)(u.K / Lanes - 1) * blockStride + RowsOf(m) * Lanes || c.Length < (long)(m - 1) * ldc + u.N)
            throw new ArgumentException($"winograd: V or C too small for [{m} × {u.K}] · [{u.K} × {u.N}]");
        fixed (float* pv = v, pc = c) MultiplyBlocked(m, pv, blockStride, u, pc, ldc);
    }

    /// <summary>
    /// C [m × N] = V [m × K] · U for V stored by channel blocks (row i, channel c at
    /// v[(c / 16) · <paramref name="blockStride"/> + 16 · i + c % 16], with whole register-tile rows readable) and U
    /// packed for the AVX-512 path; C row-major with row stride <paramref name="ldc"/>. Only the columns of U's column
    /// panels [<paramref name="firstPanel"/>, <paramref name="endPanel"/>) when given.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyBlocked(int m, float* v, nint blockStride, PackedGemmB<float> u, float* c, int ldc, int firstPanel = 0, int endPanel = int.MaxValue)
    {
        int k = u.K, n = u.N, kc = u.Kc, panels = (n + Columns - 1) / Columns;
        endPanel = Math.Min(endPanel, panels);
        float* edge = stackalloc float[RowTile * Columns];
        for (int pc = 0; pc < k; pc += kc)
        {
            int depth = Math.Min(kc, k - pc);
            bool first = pc == 0; // later depth blocks add onto the first, as GEMM's do
            float* block = u.Panels + (nint)panels * Columns * pc;
            float* aDepth = v + (pc / Lanes) * blockStride + pc % Lanes;
            for (int jp = firstPanel; jp < endPanel; jp++)
            {
                float* b = block + (nint)jp * Columns * depth;
                int j0 = jp * Columns, cols = Math.Min(Columns, n - j0);
                for (int i0 = 0; i0 < m; i0 += RowTile)
                {
                    int rows = Math.Min(RowTile, m - i0);
                    float* a = aDepth + i0 * Lanes, dst = c + (nint)i0 * ldc + j0;
                    if (rows == RowTile && cols == Columns)
                    {
                        Tile12(depth, a, blockStride, pc % Lanes, b, dst, ldc, first);
                        continue;
                    }
                    // A tile cut by the edge of C: the kernel into a scratch tile, then its valid part.
                    if (rows <= 4) Tile4(depth, a, blockStride, pc % Lanes, b, edge, Columns, true);
                    else Tile12(depth, a, blockStride, pc % Lanes, b, edge, Columns, true);
                    for (int i = 0; i < rows; i++)
                    {
                        float* ci = dst + (nint)i * ldc, si = edge + i * Columns;
                        for (int jj = 0; jj < cols; jj++) ci[jj] = first ? si[jj] : si[jj] + ci[jj];
                    }
                }
            }
        }
    }

    /// <summary>
    /// 12 rows × 32 columns over <paramref name="depth"/> steps: a[16·i] is row i's value at the first step, which is
    /// lane <paramref name="lane"/> of its channel block; the next channel block is <paramref name="blockStride"/> on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile12(int depth, float* a, nint blockStride, int lane, float* b, float* c, nint ldc, bool store)
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector512<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        Vector512<float> c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default;
        Vector512<float> c9a = default, c9b = default, c10a = default, c10b = default, c11a = default, c11b = default;
        int run = Math.Min(Lanes - lane, depth), left = depth;
        while (true)
        {
            for (int p = 0; p < run; p++)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + Lanes);
                Vector512<float> x;
                x = Vector512.Create(a[0]); c0a = Vector512.FusedMultiplyAdd(x, b0, c0a); c0b = Vector512.FusedMultiplyAdd(x, b1, c0b);
                x = Vector512.Create(a[16]); c1a = Vector512.FusedMultiplyAdd(x, b0, c1a); c1b = Vector512.FusedMultiplyAdd(x, b1, c1b);
                x = Vector512.Create(a[32]); c2a = Vector512.FusedMultiplyAdd(x, b0, c2a); c2b = Vector512.FusedMultiplyAdd(x, b1, c2b);
                x = Vector512.Create(a[48]); c3a = Vector512.FusedMultiplyAdd(x, b0, c3a); c3b = Vector512.FusedMultiplyAdd(x, b1, c3b);
                x = Vector512.Create(a[64]); c4a = Vector512.FusedMultiplyAdd(x, b0, c4a); c4b = Vector512.FusedMultiplyAdd(x, b1, c4b);
                x = Vector512.Create(a[80]); c5a = Vector512.FusedMultiplyAdd(x, b0, c5a); c5b = Vector512.FusedMultiplyAdd(x, b1, c5b);
                x = Vector512.Create(a[96]); c6a = Vector512.FusedMultiplyAdd(x, b0, c6a); c6b = Vector512.FusedMultiplyAdd(x, b1, c6b);
                x = Vector512.Create(a[112]); c7a = Vector512.FusedMultiplyAdd(x, b0, c7a); c7b = Vector512.FusedMultiplyAdd(x, b1, c7b);
                x = Vector512.Create(a[128]); c8a = Vector512.FusedMultiplyAdd(x, b0, c8a); c8b = Vector512.FusedMultiplyAdd(x, b1, c8b);
                x = Vector512.Create(a[144]); c9a = Vector512.FusedMultiplyAdd(x, b0, c9a); c9b = Vector512.FusedMultiplyAdd(x, b1, c9b);
                x = Vector512.Create(a[160]); c10a = Vector512.FusedMultiplyAdd(x, b0, c10a); c10b = Vector512.FusedMultiplyAdd(x, b1, c10b);
                x = Vector512.Create(a[176]); c11a = Vector512.FusedMultiplyAdd(x, b0, c11a); c11b = Vector512.FusedMultiplyAdd(x, b1, c11b);
                a++;
                b += Columns;
            }
            left -= run;
            if (left == 0) break;
            a += blockStride - Lanes; // from past lane 15 of this channel block to lane 0 of the next
            run = Math.Min(Lanes, left);
        }
        Put(c, c0a, c0b, store); Put(c + ldc, c1a, c1b, store); Put(c + 2 * ldc, c2a, c2b, store);
        Put(c + 3 * ldc, c3a, c3b, store); Put(c + 4 * ldc, c4a, c4b, store); Put(c + 5 * ldc, c5a, c5b, store);
        Put(c + 6 * ldc, c6a, c6b, store); Put(c + 7 * ldc, c7a, c7b, store); Put(c + 8 * ldc, c8a, c8b, store);
        Put(c + 9 * ldc, c9a, c9b, store); Put(c + 10 * ldc, c10a, c10b, store); Put(c + 11 * ldc, c11a, c11b, store);
    }

    /// <summary><see cref="Tile12"/> for the first four rows (a last row tile of at most four tiles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4(int depth, float* a, nint blockStride, int lane, float* b, float* c, nint ldc, bool store)
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default, c3a = default, c3b = default;
        int run = Math.Min(Lanes - lane, depth), left = depth;
        while (true)
        {
            for (int p = 0; p < run; p++)
            {
                var b0 = Vector512.Load(b);
                var b1 = Vector512.Load(b + Lanes);
                Vector512<float> x;
                x = Vector512.Create(a[0]); c0a = Vector512.FusedMultiplyAdd(x, b0, c0a); c0b = Vector512.FusedMultiplyAdd(x, b1, c0b);
                x = Vector512.Create(a[16]); c1a = Vector512.FusedMultiplyAdd(x, b0, c1a); c1b = Vector512.FusedMultiplyAdd(x, b1, c1b);
                x = Vector512.Create(a[32]); c2a = Vector512.FusedMultiplyAdd(x, b0, c2a); c2b = Vector512.FusedMultiplyAdd(x, b1, c2b);
                x = Vector512.Create(a[48]); c3a = Vector512.FusedMultiplyAdd(x, b0, c3a); c3b = Vector512.FusedMultiplyAdd(x, b1, c3b);
                a++;
                b += Columns;
            }
            left -= run;
            if (left == 0) break;
            a += blockStride - Lanes;
            run = Math.Min(Lanes, left);
        }
        Put(c, c0a, c0b, store); Put(c + ldc, c1a, c1b, store); Put(c + 2 * ldc, c2a, c2b, store); Put(c + 3 * ldc, c3a, c3b, store);
    }

    /// <summary>One row of the tile: stored (first depth block) or added to what C holds (GEMM's beta = 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector512<float> lo, Vector512<float> hi, bool store)
    {
        if (!store)
        {
            lo += Vector512.Load(c);
            hi += Vector512.Load(c + Lanes);
        }
        lo.Store(c);
        hi.Store(c + Lanes);
    }
}
