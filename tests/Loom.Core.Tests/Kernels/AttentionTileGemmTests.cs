namespace Loom.Tests.Kernels;

/// <summary>
/// <see cref="AttentionTileGemm"/>, the in-place products of fused attention's tiles, against a float64 sum: A read
/// row-major with a row stride wider than k (Q, dO in the projection) and transposed (Pᵀ, dSᵀ), B rows with a stride
/// wider than n, C with one wider than n whose gaps must stay untouched.
/// </summary>
[Collection(GlobalSettings.Name)]
public class AttentionTileGemmTests
{
    // m around the 8-row tile (and its one-row remainder), n around the 32- and 16-column tiles, k of 1 and more.
    private static readonly (int M, int N, int K)[] Sizes =
        [(1, 16, 1), (7, 16, 3), (8, 32, 5), (9, 48, 64), (13, 64, 7), (64, 128, 64), (64, 64, 128), (70, 80, 33)];

    [GemmPathFact(GemmPath.Avx512)]
    public void Matches_a_float64_sum_for_both_layouts_of_A_and_both_betas()
    {
        int seed = 0;
        foreach (var (m, n, k) in Sizes)
            foreach (bool transA in new[] { false, true })
                foreach (float beta in new[] { 0f, 1f })
                    Check(m, n, k, transA, alpha: 0.75f, beta, ++seed);
    }

    // A causal tile: the kernel leaves out what the mask makes zero. Depth skips are checked on an A that is zero
    // there (the result must be the whole product); the column skip on the columns a query may see.
    [GemmPathFact(GemmPath.Avx512)]
    public void Causal_skips_leave_out_only_what_the_mask_makes_zero()
    {
        int seed = 100;
        foreach (var (m, n, k) in Sizes)
            foreach (var skip in new[] { CausalSkip.ColumnsPastDiagonal, CausalSkip.DepthPastDiagonal, CausalSkip.DepthBeforeDiagonal })
                foreach (int diagonal in new[] { -9, -1, 0, 5, 64 })
                    foreach (bool transA in new[] { false, true })
                        Check(m, n, k, transA, alpha: 1.25f, beta: seed % 2, ++seed, skip, diagonal);
    }

    [GemmPathFact(GemmPath.Avx512)]
    public void Refuses_a_width_that_is_no_multiple_of_16() =>
        TensorAssert.Throws<ArgumentException>(() => Check(8, 24, 4, false, 1, 0, 1), "attention tile product", "n = 24");

    [Fact]
    public void Runs_only_where_gemm_would_run_avx512_and_the_head_fills_whole_vectors()
    {
        Assert.False(GemmTestCase.WithPath(GemmPath.Scalar, () => AttentionTileGemm.Fits(64)));
        if (!Gemm.IsSupported(GemmPath.Avx512)) return;
        Assert.True(GemmTestCase.WithPath(GemmPath.Avx512, () => AttentionTileGemm.Fits(64)));
        Assert.False(GemmTestCase.WithPath(GemmPath.Avx512, () => AttentionTileGemm.Fits(24)));
    }

    private static unsafe void Check(int m, int n, int k, bool transA, float alpha, float beta, int seed,
        CausalSkip skip = CausalSkip.None, int diagonal = 0)
    {
        var random = new System.Random(seed);
        int lda = (transA ? m : k) + 5, ldb = n + 16, ldc = n + 3;
        float[] a = Values(random, (transA ? k : m) * lda), b = Values(random, k * ldb), c = Values(random, m * ldc);
        if (beta == 0)
            for (int i = 0; i < m; i++) c.AsSpan(i * ldc, n).Fill(float.NaN); // beta = 0 must not read C
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                if (skip == CausalSkip.DepthPastDiagonal && p > i + diagonal || skip == CausalSkip.DepthBeforeDiagonal && p < i + diagonal)
                    a[transA ? p * lda + i : i * lda + p] = 0;
        float[] before = (float[])c.Clone();
        fixed (float* pa = a, pb = b, pc = c)
            AttentionTileGemm.Run(m, n, k, alpha, pa, transA ? 1 : lda, transA ? lda : 1, pb, ldb, beta, pc, ldc, skip, diagonal);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (skip == CausalSkip.ColumnsPastDiagonal && j > i + diagonal) continue;
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)a[transA ? p * lda + i : i * lda + p] * b[p * ldb + j];
                double expected = alpha * sum + (beta == 0 ? 0 : beta * (double)before[i * ldc + j]);
                Assert.True(Math.Abs(expected - c[i * ldc + j]) <= 1e-5 * (1 + Math.Abs(expected)),
                    $"m {m} n {n} k {k} transA {transA} beta {beta} {skip} {diagonal}: C[{i}, {j}] = {c[i * ldc + j]}, expected {expected}");
            }
            for (int j = n; j < ldc && i * ldc + j < c.Length; j++)
                Assert.Equal(before[i * ldc + j], c[i * ldc + j]); // the gap between C's rows
        }
    }

    private static float[] Values(System.Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }
}
