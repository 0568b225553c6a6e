using Loom.Threading;

namespace Loom.Tests.Kernels;

/// <summary>
/// Two products run side by side (<see cref="GemmPair"/>, a linear layer's dx ‖ dW): the thread done first computes
/// column chunks of the other's last depth blocks. Every element must keep the bits of the product computed alone.
/// </summary>
[Collection(GlobalSettings.Name)]
public class GemmPairTests
{
    /// <summary>One product of a pair: C = op(A)·op(B) (+ beta · C), optionally with a bias and GELU, or with A's column sums.</summary>
    private sealed record Product(bool TransA, bool TransB, int M, int N, int K, float Beta = 0, bool Epilogue = false, bool ColumnSums = false)
    {
        public float[] A = [], B = [], C0 = [], Bias = [];

        public Product Filled(int seed)
        {
            var random = new System.Random(seed);
            float[] Fill(int length)
            {
                var v = new float[length];
                for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
                return v;
            }
            A = Fill(M * K);
            B = Fill(K * N);
            C0 = Fill(M * N);
            Bias = Fill(N);
            return this;
        }

        /// <summary>C (and the activation, or the column sums) computed on the calling thread's settings.</summary>
        public (float[] C, float[] Extra) Run()
        {
            var c = (float[])C0.Clone();
            int lda = TransA ? M : K, ldb = TransB ? K : N;
            if (Epilogue)
            {
                var activated = new float[M * N];
                Gemm.GemmBiasActivation<float>(TransA, TransB, M, N, K, A, lda, B, ldb, c, N, Bias, Activation.GeluTanh, activated);
                return (c, activated);
            }
            if (ColumnSums)
            {
                var sums = new float[M];
                Gemm.GemmTransposedAWithColumnSums<float>(TransB, M, N, K, 1f, A, lda, B, ldb, Beta, c, N, sums);
                return (c, sums);
            }
            Gemm.Sgemm(TransA, TransB, M, N, K, 1f, A, lda, B, ldb, Beta, c, N);
            return (c, []);
        }
    }

    public static TheoryData<string> Pairs => new() { "dx-dw", "odd", "epilogue", "row-blocks-of-c", "narrow" };

    private static (Product, Product) Make(string name) => name switch
    {
        // GPT-2's shapes, scaled down: dx = dz·W (3 depth blocks of an odd depth: a tail of several blocks offered) beside dW = dzᵀ·x with the bias sums.
        "dx-dw" => (new Product(false, false, 256, 300, 1000).Filled(1), new Product(true, false, 300, 1000, 256, ColumnSums: true).Filled(2)),
        // Odd sizes everywhere: edge tiles in the last chunk, a four-row panel, transposed B, accumulation into C.
        "odd" => (new Product(false, true, 100, 257, 777, Beta: 1).Filled(3), new Product(true, true, 61, 99, 5, Beta: 1).Filled(4)),
        // The forward's epilogue (bias, GELU into a second buffer) applied per chunk of the offered tail.
        "epilogue" => (new Product(false, true, 40, 333, 900).Filled(5), new Product(false, false, 13, 70, 20).Filled(6)),
        // n ≤ NC, k > KC and C over 1.5 MB: row blocks of C from B packed whole; the last row block offers its depth blocks.
        "row-blocks-of-c" => (new Product(true, false, 4000, 100, 500).Filled(7), new Product(false, false, 30, 40, 50).Filled(8)),
        // Too few column panels to cut in two chunks: not offered, computed as usual.
        "narrow" => (new Product(false, false, 300, 20, 2000).Filled(9), new Product(false, false, 20, 30, 40).Filled(10)),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Each_product_of_a_pair_keeps_the_bits_it_has_alone_on_every_path(string name)
    {
        var (first, second) = Make(name);
        foreach (var path in Enum.GetValues<GemmPath>().Where(Gemm.IsSupported))
        {
            GemmTestCase.WithPath(path, () =>
            {
                var alone = On(1, () => (first.Run(), second.Run()));
                foreach (int threads in new[] { 1, 2 })
                {
                    var ((c0, e0), (c1, e1)) = On(threads, () => RunPair(first, second, out _));
                    Assert.Equal(alone.Item1.C, c0);
                    Assert.Equal(alone.Item1.Extra, e0);
                    Assert.Equal(alone.Item2.C, c1);
                    Assert.Equal(alone.Item2.Extra, e1);
                }
            });
        }
    }

    [Fact]
    public void The_thread_done_first_computes_chunks_of_the_other_product_with_the_same_bits()
    {
        // A long product beside a tiny one: whichever thread runs the tiny one waits for the long one's tail.
        var big = new Product(false, false, 256, 768, 2304).Filled(11);
        var tiny = new Product(false, false, 8, 40, 16).Filled(12);
        var expected = On(1, () => big.Run().C);
        int helped = 0;
        for (int attempt = 0; attempt < 5 && helped == 0; attempt++)
        {
            int taken = 0;
            var ((c, _), _) = On(2, () => RunPair(big, tiny, out taken));
            helped = taken;
            Assert.Equal(expected, c);
        }
        Assert.True(helped > 0, "the thread that ran the tiny product never took a chunk of the long one in 5 pairs");
    }

    [Fact]
    public void Double_products_of_a_pair_keep_their_bits()
    {
        const int m = 100, n = 200, k = 700;
        var g = new Loom.Random.Generator(3);
        double[] a = Tensor.Randn(new Shape(m, k), g).To(DType.Float64).ToArray<double>();
        double[] b = Tensor.Randn(new Shape(k, n), g).To(DType.Float64).ToArray<double>();
        var expected = new double[m * n];
        Gemm.Dgemm(false, false, m, n, k, 1.0, a, k, b, n, 0.0, expected, n);
        var c = new double[m * n];
        var small = new double[4];
        GlobalSettings.WithThreads(2, () => ParallelHelper.For(2, 1, new GemmPair(), (pair, start, end) =>
        {
            for (int i = start; i < end; i++)
                pair.Run(i, i, (which, _) =>
                {
                    if (which == 0) Gemm.Dgemm(false, false, m, n, k, 1.0, a, k, b, n, 0.0, c, n);
                    else Gemm.Dgemm(false, false, 2, 2, 2, 1.0, a, k, b, n, 0.0, small, 2);
                });
        }));
        Assert.Equal(expected, c);
    }

    [Fact]
    public void Linear_gradients_at_two_threads_equal_those_at_one()
    {
        // Large enough for dx ‖ dW (2 threads), with the bias gradient summed in dW's pack.
        var x = TestTensors.Randn(1, DType.Float32, 96, 700);
        var w = TestTensors.Randn(2, DType.Float32, 300, 700);
        var b = TestTensors.Randn(3, DType.Float32, 300);
        var dy = TestTensors.Randn(4, DType.Float32, 96, 300);
        (float[], float[], float[]) Gradients(int threads) => On(threads, () =>
        {
            var (xi, wi, bi) = (x.Clone().RequiresGrad_(), w.Clone().RequiresGrad_(), b.Clone().RequiresGrad_());
            Functional.Linear(xi, wi, bi, Activation.GeluTanh).Backward(dy);
            return (xi.Grad!.ToArray<float>(), wi.Grad!.ToArray<float>(), bi.Grad!.ToArray<float>());
        });
        var one = Gradients(1);
        var two = Gradients(2);
        Assert.Equal(one.Item1, two.Item1);
        Assert.Equal(one.Item2, two.Item2);
        Assert.Equal(one.Item3, two.Item3);
    }

    private static TResult On<TResult>(int threads, Func<TResult> action)
    {
        TResult result = default!;
        GlobalSettings.WithThreads(threads, () => result = action());
        return result;
    }

    private static ((float[], float[]), (float[], float[])) RunPair(Product first, Product second, out int helped)
    {
        var results = new (float[], float[])[2];
        var pair = new GemmPair();
        ParallelHelper.For(2, 1, (Pair: pair, First: first, Second: second, Results: results), static (s, start, end) =>
        {
            for (int i = start; i < end; i++)
                s.Pair.Run(s, i, static (state, which) => state.Results[which] = (which == 0 ? state.First : state.Second).Run());
        });
        helped = pair.ChunksHelped;
        return (results[0], results[1]);
    }
}
