namespace Loom.Tests.Kernels;

/// <summary>m == 1 and n == 1 run as matrix-vector products (GemmVector) instead of the blocked driver.</summary>
[Collection(GlobalSettings.Name)]
public class GemmVectorTests
{
    public static TheoryData<int, int, int> VectorShapes => new()
    {
        { 1, 1, 1 }, { 1, 1, 1000 }, { 1, 15, 9 }, { 1, 16, 9 }, { 1, 3000, 33 }, { 1, 4097, 5 },
        { 15, 1, 9 }, { 16, 1, 9 }, { 3000, 1, 33 }, { 4097, 1, 5 },
    };

    [Theory]
    [MemberData(nameof(VectorShapes))]
    public void Single_row_or_column_products_match_reference_for_every_transpose_with_strided_vectors(int m, int n, int k)
    {
        // Padding makes the lone row/column of A, B or C strided (lda, ldb, ldc > 1) in every orientation.
        foreach (var c in GemmTestCase.AllTransposes([(m, n, k)], pad: 3))
        {
            c.Alpha = -1.5;
            c.Beta = 0.25;
            c.CheckSgemm();
            c.CheckDgemm();
            c.Beta = 0;
            c.CheckSgemm();
        }
    }

    /// <summary>
    /// The dot-form kernels (four rows per pass, two accumulators per row, a scalar tail) around every vector width:
    /// k below, at and past one and two vectors of float and double on each path, and row counts around the block of 4.
    /// </summary>
    private static void CheckDotKernels(GemmPath path) => GemmTestCase.WithPath(path, () =>
    {
        Assert.Equal(path, Gemm.ActivePath);
        int[] ks = [1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100];
        foreach (int k in ks)
            foreach (int n in new[] { 1, 3, 4, 5, 9 })
                foreach (var c in GemmTestCase.AllTransposes([(1, n, k), (n, 1, k)], pad: 2))
                {
                    c.CheckSgemm(); // alpha 1, beta 0: written straight into C
                    c.CheckDgemm();
                    c.Alpha = -1.5;
                    c.Beta = 0.25;
                    c.CheckSgemm();
                    c.CheckDgemm();
                }
    });

    [GemmPathFact(GemmPath.Avx512)]
    public void Avx512_dot_kernels_match_reference() => CheckDotKernels(GemmPath.Avx512);

    [GemmPathFact(GemmPath.Avx2)]
    public void Avx2_dot_kernels_match_reference() => CheckDotKernels(GemmPath.Avx2);

    [GemmPathFact(GemmPath.Scalar)]
    public void Scalar_dot_kernels_match_reference() => CheckDotKernels(GemmPath.Scalar);

    [Theory]
    [InlineData(1, 100_000, 64)]
    [InlineData(100_000, 1, 64)]
    [InlineData(1, 3000, 2000)]
    [InlineData(1, 3003, 2000)] // the threads' ranges split a block of four rows
    [InlineData(1, 1155, 384)]  // below GEMM's 2 MFLOP threshold: split by the vector's own grain (gpt-small decoding)
    [InlineData(1538, 1, 384)]
    public void Matrix_vector_products_are_identical_on_one_and_two_threads(int m, int n, int k)
    {
        foreach (var c in GemmTestCase.AllTransposes([(m, n, k)]))
        {
            var (a, b, cc) = c.Operands();
            float[] one = [], two = [];
            GlobalSettings.WithThreads(1, () => one = c.RunSgemm(a, b, cc));
            GlobalSettings.WithThreads(2, () => two = c.RunSgemm(a, b, cc));
            Assert.Equal(one, two);
        }
        new GemmTestCase { M = m, N = n, K = k, TransB = true }.CheckSgemm();
    }
}
