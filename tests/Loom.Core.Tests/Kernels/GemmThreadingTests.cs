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
        { 300, 200, 150, false, true },  // tall: rows, each thread packing all of B
        { 50, 2000, 64, false, true },
        { 130, 130, 1025, true, true },  // several depth blocks
        { 400, 64, 50, false, false },   // rows split; the last panel holds four rows (the four-row tile)
        { 900, 600, 900, false, false }, // rows split sharing B: 3 depth × 2 column blocks through the two buffers
        { 700, 650, 800, true, true },   // the same, both operands transposed, a partial last B panel per block
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
        float[] four = [];
        GlobalSettings.WithThreads(4, () => four = c.RunSgemm(a, b, cc)); // a 2 × 2 grid where both sides have panels
        Assert.Equal(one, two);
        Assert.Equal(one, three);
        Assert.Equal(one, four);
        Assert.Equal(oneD, twoD);
        c.CheckSgemm();
    }

    [Theory]
    [InlineData(40, 500)] // columns split: each thread's bias and activation output start at its first column
    [InlineData(500, 40)] // rows split
    [InlineData(260, 260)] // a 2 × 2 grid at 4 threads
    public void The_epilogue_lands_on_each_threads_own_rectangle(int m, int n)
    {
        const int k = 70;
        var g = new Loom.Random.Generator(3);
        float[] a = Tensor.Randn(new Shape(m, k), g).ToArray<float>();
        float[] w = Tensor.Randn(new Shape(n, k), g).ToArray<float>();
        float[] bias = Tensor.Randn(new Shape(n), g).ToArray<float>();
        (float[] C, float[] Activated) Run(int threads)
        {
            var c = new float[m * n];
            var activated = new float[m * n];
            GlobalSettings.WithThreads(threads, () =>
                Gemm.GemmBiasActivation<float>(false, true, m, n, k, a, k, w, k, c, n, bias, Activation.Gelu, activated));
            return (c, activated);
        }
        var (c1, act1) = Run(1);
        for (int i = 0; i < m; i += 37)
            for (int j = 0; j < n; j += 11)
            {
                double z = bias[j];
                for (int p = 0; p < k; p++) z += (double)a[i * k + p] * w[j * k + p];
                Assert.Equal(z, c1[i * n + j], 1e-4);
                Assert.Equal(0.5 * z * (1 + ReferenceElementwise.Erf(z / Math.Sqrt(2))), act1[i * n + j], 1e-4);
            }
        foreach (int threads in new[] { 2, 3, 4 })
        {
            var (c, act) = Run(threads);
            Assert.Equal(c1, c);
            Assert.Equal(act1, act);
        }
    }

    [Theory]
    [InlineData(2, 1024, 256, 2, 1)]   // the GPT's products: rows, B packed twice
    [InlineData(2, 256, 50257, 1, 2)]  // tied logits: columns, A packed twice
    [InlineData(2, 512, 512, 2, 1)]    // a tie goes to rows
    [InlineData(4, 1024, 1024, 2, 2)]  // 2 × 2 packs A twice and B twice: less than 4 × 1
    [InlineData(4, 24, 4096, 1, 4)]    // two row panels only: columns
    [InlineData(3, 12, 32, 1, 1)]      // one panel each way: one thread
    public void The_thread_grid_packs_the_least_among_grids_using_the_most_threads(int threads, int m, int n, int rows, int columns)
    {
        var grid = ThreadGrid.Choose(threads, m, n, (m + 11) / 12, (n + 31) / 32);
        Assert.Equal(new ThreadGrid(rows, columns), grid);
    }
}
