namespace Loom.Tests.Kernels;

/// <summary>Each micro-kernel path, forced, against the reference; and the paths against each other.</summary>
[Collection(GlobalSettings.Name)]
public class GemmPathTests
{
    /// <summary>
    /// Sizes around the tiles of every path (12×32, 6×16, 4×4 and their double versions) and a KC block; m = 233 packs a
    /// transposed A in groups of 16 panels on every path, then single panels, then the edge panel. m = 16 and 40 end
    /// in a panel of four rows on the 12- and 6-row tiles (the four-row tile where the columns are whole, the edge
    /// tile at n = 97's last 1 or 17 columns).
    /// </summary>
    private static readonly (int M, int N, int K)[] PathSizes =
        [(1, 1, 1), (3, 5, 7), (4, 4, 9), (5, 8, 3), (6, 16, 10), (12, 32, 11), (13, 33, 12), (25, 47, 13), (7, 9, 2 * 384 + 1), (233, 19, 21),
         (16, 64, 19), (40, 97, 390)];

    [GemmPathFact(GemmPath.Avx512)]
    public void Avx512_path_matches_reference() => CheckPath(GemmPath.Avx512);

    [GemmPathFact(GemmPath.Avx2)]
    public void Avx2_path_matches_reference() => CheckPath(GemmPath.Avx2);

    [GemmPathFact(GemmPath.Scalar)]
    public void Scalar_path_matches_reference() => CheckPath(GemmPath.Scalar);

    private static void CheckPath(GemmPath path) => GemmTestCase.WithPath(path, () =>
    {
        Assert.Equal(path, Gemm.ActivePath);
        foreach (var c in GemmTestCase.AllTransposes(PathSizes, pad: 1))
        {
            c.Alpha = 1.5;
            c.Beta = c.Seed % 2 == 0 ? 0 : -0.5;
            c.CheckSgemm();
            c.CheckDgemm();
        }
        // Large enough to take the multithreaded code path.
        GlobalSettings.WithThreads(2, () => new GemmTestCase { M = 70, N = 90, K = 400, TransB = true }.CheckSgemm());
    });

    [Fact]
    public void Block_sizes_set_for_the_benchmark_sweep_change_the_blocking_not_the_result()
    {
        var saved = Gemm.SgemmBlocking;
        try
        {
            // Tiny blocks: many depth blocks and column blocks, each rounded up to the micro-tile.
            Gemm.SgemmBlocking = (5, 7);
            Assert.Equal((5, 7), Gemm.SgemmBlocking);
            new GemmTestCase { M = 70, N = 90, K = 41, Beta = 0.5 }.CheckSgemm();
            GlobalSettings.WithThreads(2, () => new GemmTestCase { M = 70, N = 90, K = 400, TransB = true }.CheckSgemm());
            TensorAssert.Throws<ArgumentOutOfRangeException>(() => Gemm.SgemmBlocking = (0, 512), "sgemm", "positive");
        }
        finally
        {
            Gemm.SgemmBlocking = saved;
        }
        Assert.Equal(saved, Gemm.SgemmBlocking);
    }

    /// <summary>
    /// A transposed is read in place by the micro-kernel (its MR values per step are contiguous), any other A is packed:
    /// the kernel sees the same values in the same order either way, so Aᵀ stored (with a padded row stride) must give
    /// the very bits of A stored as is. m = 40 ends in a four-row panel on the 12- and 6-row tiles, m = 37 and 35 in
    /// short panels that are packed; k = 390 makes two depth blocks; n = 97 ends in an edge tile.
    /// </summary>
    [Theory]
    [InlineData(40)]
    [InlineData(37)]
    [InlineData(35)]
    public void Transposed_A_read_in_place_gives_the_bits_of_A_packed(int m)
    {
        const int n = 97, k = 390, ldaT = 45;
        var random = new System.Random(m);
        var a = new float[m * k];
        var aT = new float[k * ldaT];
        var b = new float[k * n];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                aT[p * ldaT + i] = a[i * k + p] = (float)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(random.NextDouble() * 2 - 1);
        foreach (var path in Enum.GetValues<GemmPath>().Where(Gemm.IsSupported))
        {
            GemmTestCase.WithPath(path, () =>
            {
                var packed = new float[m * n];
                var inPlace = new float[m * n];
                Gemm.Sgemm(false, false, m, n, k, 1.5f, a, k, b, n, 0f, packed, n);
                Gemm.Sgemm(true, false, m, n, k, 1.5f, aT, ldaT, b, n, 0f, inPlace, n);
                Assert.Equal(packed, inPlace);
            });
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void A_product_whose_C_outgrows_the_cache_gives_the_bits_of_its_rows_computed_a_slice_at_a_time(bool transA, bool transB)
    {
        // 1800 × 250 floats of C (1.8 MB) over three depth blocks: the whole product keeps blocks of C's rows in cache
        // across the depth blocks (B packed whole), each 12-row slice runs the ordinary loop nest.
        const int m = 1800, n = 250, k = 900, slice = 12;
        var random = new System.Random(7);
        float[] Fill(int length)
        {
            var v = new float[length];
            for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
            return v;
        }
        var a = Fill(m * k);
        var b = Fill(k * n);
        var c0 = Fill(m * n);
        int lda = transA ? m : k, ldb = transB ? k : n;
        foreach (var path in Enum.GetValues<GemmPath>().Where(Gemm.IsSupported))
        {
            GemmTestCase.WithPath(path, () =>
            {
                var whole = (float[])c0.Clone();
                var slices = (float[])c0.Clone();
                GlobalSettings.WithThreads(1, () =>
                {
                    Gemm.Sgemm(transA, transB, m, n, k, 0.5f, a, lda, b, ldb, 1f, whole, n);
                    for (int i0 = 0; i0 < m; i0 += slice)
                        Gemm.Sgemm(transA, transB, slice, n, k, 0.5f, a.AsSpan(transA ? i0 : i0 * k), lda, b, ldb, 1f, slices.AsSpan(i0 * n), n);
                });
                Assert.Equal(slices, whole);
            });
        }
    }

    [Fact]
    public void Every_supported_path_gives_the_same_result_within_float_rounding()
    {
        var c = new GemmTestCase { M = 37, N = 70, K = 300, Alpha = 0.5, Beta = 2, TransA = true };
        var (a, b, cc) = c.Operands();
        var results = Enum.GetValues<GemmPath>().Where(Gemm.IsSupported)
            .Select(path => (path, result: GemmTestCase.WithPath(path, () => c.RunSgemm(a, b, cc))))
            .ToList();
        Assert.True(results.Count >= 2, "at least Auto and Scalar exist on every CPU");
        foreach (var (path, result) in results.Skip(1))
            TensorAssert.Close(results[0].result, result, c.FloatTolerance, 1e-5, $"{results[0].path} vs {path} ");
    }

    [Fact]
    public void Auto_picks_the_widest_path_this_CPU_supports()
    {
        var expected = Gemm.IsSupported(GemmPath.Avx512) ? GemmPath.Avx512 : Gemm.IsSupported(GemmPath.Avx2) ? GemmPath.Avx2 : GemmPath.Scalar;
        Assert.Equal(expected, GemmTestCase.WithPath(GemmPath.Auto, () => Gemm.ActivePath));
    }
}
