namespace Loom.Tests.Kernels;

[Collection(GlobalSettings.Name)]
public class GemmBatchedTests
{
    /// <summary>Batched GEMM against a loop of reference GEMMs over the same strided layout.</summary>
    private static void CheckBatched(bool transA, bool transB, int m, int n, int k, int batch, bool broadcastA, bool broadcastB, int gap = 3)
    {
        int lda = transA ? m : k, ldb = transB ? k : n, ldc = n;
        int sizeA = (transA ? k : m) * lda, sizeB = (transB ? n : k) * ldb, sizeC = m * ldc;
        int strideA = broadcastA ? 0 : sizeA + gap, strideB = broadcastB ? 0 : sizeB + gap, strideC = sizeC + gap;
        var random = new System.Random(m + 7 * n + 31 * k + batch);
        double[] Fill(int length) => Enumerable.Range(0, length).Select(_ => Math.Round(random.NextDouble() * 2 - 1, 3)).ToArray();
        var a = Fill(Math.Max(1, (batch - 1) * strideA + sizeA));
        var b = Fill(Math.Max(1, (batch - 1) * strideB + sizeB));
        var c = Fill((batch - 1) * strideC + sizeC);

        var expected = (double[])c.Clone();
        for (int i = 0; i < batch; i++)
            ReferenceGemm.Gemm(transA, transB, m, n, k, 0.5, a.AsSpan(i * strideA), lda, b.AsSpan(i * strideB), ldb, -1.0,
                expected.AsSpan(i * strideC), ldc);

        var actualF = GemmTestCase.ToFloat(c);
        Gemm.SgemmBatched(transA, transB, m, n, k, 0.5f, GemmTestCase.ToFloat(a), lda, strideA, GemmTestCase.ToFloat(b), ldb, strideB,
            -1f, actualF, ldc, strideC, batch);
        TensorAssert.Close(GemmTestCase.ToFloat(expected), actualF, 1e-6 * (k + 1) * 2 + 1e-6, 1e-5, "sgemm_batched ");

        var actualD = (double[])c.Clone();
        Gemm.DgemmBatched(transA, transB, m, n, k, 0.5, a, lda, strideA, b, ldb, strideB, -1.0, actualD, ldc, strideC, batch);
        TensorAssert.Close(expected, actualD, 1e-12 * (k + 1), 1e-12, "dgemm_batched ");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Batched_matches_a_loop_of_single_gemms_and_leaves_the_gaps_untouched(bool transA, bool transB)
    {
        CheckBatched(transA, transB, 13, 17, 19, batch: 5, broadcastA: false, broadcastB: false);
        CheckBatched(transA, transB, 1, 33, 4, batch: 3, broadcastA: false, broadcastB: false);
    }

    [Fact]
    public void Stride_zero_broadcasts_A_to_every_batch()
    {
        CheckBatched(false, false, 9, 35, 14, batch: 6, broadcastA: true, broadcastB: false);
        CheckBatched(true, true, 9, 35, 14, batch: 6, broadcastA: true, broadcastB: false);
    }

    [Fact]
    public void Stride_zero_broadcasts_B_to_every_batch()
    {
        CheckBatched(false, true, 20, 7, 30, batch: 4, broadcastA: false, broadcastB: true);
        CheckBatched(true, false, 20, 7, 30, batch: 4, broadcastA: false, broadcastB: true);
    }

    [Fact]
    public void Many_small_matrices_run_over_threads_with_the_same_result()
    {
        // 64 matrices of 8×8×8: each too small to split, so threads take whole matrices.
        GlobalSettings.WithThreads(2, () => CheckBatched(false, true, 8, 8, 8, batch: 64, broadcastA: false, broadcastB: false));
        // 3 matrices large enough that each uses every thread by itself.
        GlobalSettings.WithThreads(2, () => CheckBatched(false, false, 128, 128, 160, batch: 3, broadcastA: false, broadcastB: true));
    }

    [Fact]
    public void Zero_batch_count_is_a_no_op()
    {
        var c = new float[] { 1, 2 };
        Gemm.SgemmBatched(false, false, 1, 2, 3, 1f, [], 3, 3, [], 2, 6, 0f, c, 2, 2, 0);
        Assert.Equal(new float[] { 1, 2 }, c);
    }

    [Fact]
    public void Overlapping_C_matrices_are_refused()
    {
        TensorAssert.Throws<ArgumentException>(() =>
            Gemm.SgemmBatched(false, false, 2, 3, 4, 1f, new float[100], 4, 8, new float[100], 3, 12, 0f, new float[100], 3, 0, 2),
            "sgemm_batched", "C matrices [2, 3]", "overlap");
    }

    [Fact]
    public void A_span_too_short_for_the_last_batch_is_refused()
    {
        TensorAssert.Throws<ArgumentException>(() =>
            Gemm.DgemmBatched(false, false, 2, 3, 4, 1, new double[2 * 8 + 7], 4, 8, new double[12], 3, 0, 0, new double[100], 3, 6, 3),
            "dgemm_batched", "A stored as [2, 4]", "stride 8, batch 3", "needs 24");
    }
}
