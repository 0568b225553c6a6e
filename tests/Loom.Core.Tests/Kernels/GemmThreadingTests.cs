using Loom.Kernels;

namespace Loom.Tests.Kernels;

/// <summary>
/// Threads split C into disjoint blocks and every element is summed in the same order whatever the thread count, so
/// 1, 2 and 3 threads must give bit-identical results (and match the reference).
/// </summary>
[Collection(GlobalSettings.Name)]
public class GemmThreadingTests
{
    public static TheoryData<int, int, int, bool, bool> Shapes => new()
    {
        { 200, 300, 150, false, false }, // wide: threads split the columns
        { 600, 20, 300, true, false },   // narrow: threads split the rows
        { 50, 2000, 64, false, true },
        { 130, 130, 1025, true, true },  // several depth blocks
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void One_two_and_three_threads_give_identical_results(int m, int n, int k, bool transA, bool transB)
    {
        var c = new GemmTestCase { M = m, N = n, K = k, TransA = transA, TransB = transB, Alpha = 0.5, Beta = 1, PadC = 3 };
        var (a, b, cc) = c.Operands();
        float[] one = [], two = [], three = [];
        double[] oneD = [], twoD = [];
        GlobalSettings.WithThreads(1, () => { one = c.RunSgemm(a, b, cc); oneD = c.RunDgemm(a, b, cc); });
        GlobalSettings.WithThreads(2, () => { two = c.RunSgemm(a, b, cc); twoD = c.RunDgemm(a, b, cc); });
        GlobalSettings.WithThreads(3, () => three = c.RunSgemm(a, b, cc));
        Assert.Equal(one, two);
        Assert.Equal(one, three);
        Assert.Equal(oneD, twoD);
        c.CheckSgemm();
    }
}
