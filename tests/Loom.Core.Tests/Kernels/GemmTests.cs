namespace Loom.Tests.Kernels;

[Collection(GlobalSettings.Name)]
public class GemmTests
{
    private static GemmBlocking FloatBlocking => GemmDriver<float, GemmKernelAvx512<float>>.Blocking;

    /// <summary>Shapes that hit every edge: single elements and vectors, primes, tile and cache-block boundaries ±1.</summary>
    public static IEnumerable<(int M, int N, int K)> AwkwardSizes()
    {
        var bl = FloatBlocking;
        yield return (1, 1, 1);
        yield return (1, 40, 7);   // a row vector times a matrix
        yield return (40, 1, 7);   // a matrix times a column vector
        yield return (1, 1, 300);  // a dot product
        yield return (7, 9, 1);    // an outer product
        yield return (13, 17, 19);
        yield return (12, 32, 8);  // exactly one AVX-512 tile
        yield return (11, 31, 5);  // one short of a tile in both directions
        yield return (25, 65, 3);  // one past two tiles
        yield return (37, 41, 43);
        yield return (13, 33, bl.Kc + 1);       // depth crosses a KC block
        yield return (5, 7, 2 * bl.Kc + 3);
        yield return (13, bl.Nc + 1, 5);        // width crosses an NC block
        yield return (3, 2 * bl.Nc + 17, 2);
        yield return (bl.Mc + 1, 3, 2);         // height crosses an MC block
        yield return (1023, 17, 5);
        yield return (7, 1025, 9);
        yield return (5, 9, 1025);
    }

    public static TheoryData<bool, bool, int, int, int> AllTransposesOfAwkwardSizes()
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        foreach (var c in GemmTestCase.AllTransposes(AwkwardSizes())) data.Add(c.TransA, c.TransB, c.M, c.N, c.K);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllTransposesOfAwkwardSizes))]
    public void Sgemm_matches_reference_for_every_transpose_and_awkward_size(bool transA, bool transB, int m, int n, int k) =>
        new GemmTestCase { TransA = transA, TransB = transB, M = m, N = n, K = k, Seed = m * 31 + n * 7 + k }.CheckSgemm();

    [Theory]
    [MemberData(nameof(AllTransposesOfAwkwardSizes))]
    public void Dgemm_matches_reference_for_every_transpose_and_awkward_size(bool transA, bool transB, int m, int n, int k) =>
        new GemmTestCase { TransA = transA, TransB = transB, M = m, N = n, K = k, Seed = m * 31 + n * 7 + k }.CheckDgemm();

    [Fact]
    public void Sgemm_matches_reference_at_1023_by_1025()
    {
        foreach (var c in GemmTestCase.AllTransposes([(1023, 1025, 16)])) c.CheckSgemm();
    }

    [Fact]
    public void Submatrices_with_padded_rows_are_read_and_written_in_place_leaving_the_padding_untouched()
    {
        foreach (var c in GemmTestCase.AllTransposes([(13, 17, 19), (25, 65, 40), (1, 33, 3), (40, 1, 3)], pad: 5))
        {
            c.CheckSgemm();
            c.CheckDgemm();
        }
    }

    [Fact]
    public void Alpha_and_beta_scale_the_product_and_the_previous_C()
    {
        foreach (var (alpha, beta) in new[] { (1.0, 1.0), (-0.75, 1.5), (2.0, -1.0), (0.5, 0.0) })
            foreach (var c in GemmTestCase.AllTransposes([(13, 35, 19), (30, 70, FloatBlocking.Kc + 5)], pad: 2))
            {
                c.Alpha = alpha;
                c.Beta = beta;
                c.CheckSgemm();
                c.CheckDgemm();
            }
    }

    [Fact]
    public void Beta_zero_overwrites_C_without_reading_it_so_NaN_in_C_does_not_leak()
    {
        foreach (var c in GemmTestCase.AllTransposes([(13, 35, 19), (24, 64, 500)]))
        {
            var (a, b, _) = c.Operands();
            var nanC = Enumerable.Repeat(double.NaN, c.LengthC).ToArray();
            var expected = c.Expected(a, b, new double[c.LengthC]);
            var actual = c.RunSgemm(a, b, nanC);
            Assert.DoesNotContain(actual, float.IsNaN);
            TensorAssert.Close(GemmTestCase.ToFloat(expected), actual, c.FloatTolerance, 1e-5);
            Assert.DoesNotContain(c.RunDgemm(a, b, nanC), double.IsNaN);
        }
    }

    [Fact]
    public void Alpha_zero_gives_beta_times_C_without_reading_A_or_B()
    {
        var a = Enumerable.Repeat(float.NaN, 6 * 4).ToArray();
        var b = Enumerable.Repeat(float.NaN, 4 * 5).ToArray();
        var c = Enumerable.Range(0, 6 * 5).Select(i => (float)i).ToArray();
        Gemm.Sgemm(false, false, 6, 5, 4, 0f, a, 4, b, 5, 2f, c, 5);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => 2f * i), c);
        Gemm.Sgemm(false, false, 6, 5, 4, 0f, a, 4, b, 5, 0f, c, 5);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Empty_depth_gives_beta_times_C()
    {
        var c = new double[] { 1, 2, 3, 4, 5, 6 };
        Gemm.Dgemm(false, false, 2, 3, 0, 1.0, [], 0, [], 3, -1.0, c, 3);
        Assert.Equal(new double[] { -1, -2, -3, -4, -5, -6 }, c);
        var nan = new double[] { double.NaN, double.NaN };
        Gemm.Dgemm(true, true, 1, 2, 0, 1.0, [], 1, [], 0, 0.0, nan, 2);
        Assert.Equal(new double[] { 0, 0 }, nan);
    }

    [Fact]
    public void Empty_output_is_a_no_op()
    {
        var c = new float[] { 7 };
        Gemm.Sgemm(false, false, 0, 1, 5, 1f, [], 5, new float[5], 1, 0f, c, 1);
        Gemm.Sgemm(false, false, 1, 0, 5, 1f, new float[5], 5, [], 0, 0f, c, 0);
        Assert.Equal(7f, c[0]);
    }

    [Fact]
    public void A_span_too_short_for_its_shape_is_refused_naming_the_operand_and_shape()
    {
        var a = new float[2 * 3];
        var b = new float[3 * 4];
        var c = new float[2 * 4];
        TensorAssert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 4, 3, 1f, a[..5], 3, b, 4, 0f, c, 4),
            "sgemm", "A stored as [2, 3]", "needs 6", "has 5");
        TensorAssert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 2, 4, 3, 1f, a, 3, b[..11], 3, 0f, c, 4),
            "sgemm", "Bᵀ stored as [4, 3]");
        TensorAssert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 4, 3, 1f, a, 3, b, 4, 0f, c[..7], 4),
            "sgemm", "C stored as [2, 4]");
    }

    [Fact]
    public void A_leading_dimension_shorter_than_a_row_is_refused()
    {
        TensorAssert.Throws<ArgumentException>(() =>
            Gemm.Dgemm(true, false, 2, 4, 3, 1, new double[100], 1, new double[100], 4, 0, new double[100], 4),
            "dgemm", "Aᵀ stored as [3, 2]", "lda >= 2, got 1");
        TensorAssert.Throws<ArgumentException>(() =>
            Gemm.Sgemm(false, false, -1, 4, 3, 1, new float[100], 3, new float[100], 4, 0, new float[100], 4),
            "sgemm", "must not be negative");
    }

    [Fact]
    public void Repeated_calls_reuse_pack_buffers_instead_of_allocating()
    {
        int saved = Threads.Count;
        try
        {
            Threads.Count = 1;
            var c = new GemmTestCase { M = 300, N = 200, K = 500 };
            var (a, b, cd) = c.Operands();
            float[] af = GemmTestCase.ToFloat(a), bf = GemmTestCase.ToFloat(b), cf = GemmTestCase.ToFloat(cd);
            for (int i = 0; i < 3; i++) Gemm.Sgemm(false, true, 300, 200, 500, 1f, af, c.Lda, bf, 500, 0f, cf, 200);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) Gemm.Sgemm(false, false, 300, 200, 500, 1f, af, c.Lda, bf, c.Ldb, 0f, cf, c.Ldc);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1024, $"20 GEMM calls allocated {allocated} bytes");
        }
        finally
        {
            Threads.Count = saved;
        }
    }
}

