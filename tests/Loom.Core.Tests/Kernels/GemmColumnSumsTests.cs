namespace Loom.Tests.Kernels;

/// <summary>
/// The weight gradient dyᵀ·x of a linear layer adds dy's column sums (its bias gradient) as GEMM packs dyᵀ: C must be
/// the plain product's bits and the sums those of adding dy's rows one after the other, on every path and thread count.
/// </summary>
[Collection(GlobalSettings.Name)]
public class GemmColumnSumsTests
{
    public static TheoryData<int, int, int, bool> Shapes => new()
    {
        { 300, 200, 150, false },  // rows split at 2 and 3 threads, one depth block
        { 200, 300, 900, true },   // columns split: only the first column block sums; three depth blocks
        { 1030, 100, 1000, false }, // the GPT's dW shape class; a four-row last panel
        { 2000, 400, 800, false }, // C over 1.5 MB per thread: row blocks of C through every depth block
        { 1, 300, 500, false },    // one row: the vector path, no packing
        { 300, 1, 500, true },     // one column: the vector path
        { 700, 40, 6, false },     // a depth shorter than a tile
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_column_sums_of_A_come_with_the_bits_of_summing_its_rows_in_order(int m, int n, int k, bool transB)
    {
        var random = new System.Random(m * 31 + n);
        float[] Fill(int length)
        {
            var v = new float[length];
            for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
            return v;
        }
        float[] a = Fill(k * m), b = Fill(k * n), c0 = Fill(m * n), sums0 = Fill(m);
        int ldb = transB ? k : n;
        foreach (var path in Enum.GetValues<GemmPath>().Where(Gemm.IsSupported))
        {
            GemmTestCase.WithPath(path, () =>
            {
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    foreach (bool accumulate in new[] { false, true })
                    {
                        float beta = accumulate ? 1f : 0f;
                        var expectedC = (float[])c0.Clone();
                        var expectedSums = (float[])sums0.Clone();
                        var c = (float[])c0.Clone();
                        var sums = (float[])sums0.Clone();
                        if (!accumulate) Array.Clear(sums);
                        GlobalSettings.WithThreads(threads, () =>
                        {
                            Gemm.Sgemm(true, transB, m, n, k, 1f, a, m, b, ldb, beta, expectedC, n);
                            BiasKernels.ColumnSums<float>(a, expectedSums, accumulate);
                            Gemm.GemmTransposedAWithColumnSums<float>(transB, m, n, k, 1f, a, m, b, ldb, beta, c, n, sums);
                        });
                        Assert.Equal(expectedC, c);
                        Assert.Equal(expectedSums, sums);
                    }
                }
            });
        }
    }

    [Fact]
    public void Double_sums_match_and_a_short_sums_span_is_a_clear_error()
    {
        const int m = 90, n = 70, k = 500;
        var g = new Loom.Random.Generator(5);
        double[] a = Tensor.Randn(new Shape(k, m), g).To(DType.Float64).ToArray<double>();
        double[] b = Tensor.Randn(new Shape(k, n), g).To(DType.Float64).ToArray<double>();
        var expected = new double[m];
        BiasKernels.ColumnSums<double>(a, expected);
        var c = new double[m * n];
        var sums = new double[m];
        GlobalSettings.WithThreads(2, () => Gemm.GemmTransposedAWithColumnSums<double>(false, m, n, k, 1.0, a, m, b, n, 0.0, c, n, sums));
        Assert.Equal(expected, sums);
        var plain = new double[m * n];
        Gemm.Dgemm(true, false, m, n, k, 1.0, a, m, b, n, 0.0, plain, n);
        Assert.Equal(plain, c);
        TensorAssert.Throws<ArgumentException>(
            () => Gemm.GemmTransposedAWithColumnSums<double>(false, m, n, k, 1.0, a, m, b, n, 0.0, c, n, new double[m - 1]),
            "gemm_column_sums", "column sums");
    }
}
