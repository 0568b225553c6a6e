using Loom.Kernels;

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

    [Theory]
    [InlineData(1, 100_000, 64)]
    [InlineData(100_000, 1, 64)]
    [InlineData(1, 3000, 2000)]
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
