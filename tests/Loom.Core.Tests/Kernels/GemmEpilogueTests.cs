namespace Loom.Tests.Kernels;

/// <summary>
/// The GEMM epilogue (C = op(A)·op(B), then C[i, j] += bias[j] and an activation on each finished block of C): on every
/// path, through the blocked driver and the matrix-vector kernels, with the pre-activation kept or not, on any thread count.
/// </summary>
[Collection(GlobalSettings.Name)]
public class GemmEpilogueTests
{
    /// <summary>
    /// Edge tiles of every path, several depth blocks (the epilogue must wait for the last), and the matrix-vector
    /// shapes (m == 1: the dot kernels of batch-1 inference; n == 1: a one-feature layer).
    /// </summary>
    private static readonly (int M, int N, int K)[] Sizes =
        [(1, 1, 1), (3, 5, 7), (13, 33, 12), (25, 47, 2 * 384 + 1), (1, 37, 50), (1, 70, 33), (9, 1, 20), (40, 3, 17)];

    [GemmPathFact(GemmPath.Avx512)]
    public void Avx512_bias_and_relu_epilogue_matches_reference() => CheckPath(GemmPath.Avx512);

    [GemmPathFact(GemmPath.Avx2)]
    public void Avx2_bias_and_relu_epilogue_matches_reference() => CheckPath(GemmPath.Avx2);

    [GemmPathFact(GemmPath.Scalar)]
    public void Scalar_bias_and_relu_epilogue_matches_reference() => CheckPath(GemmPath.Scalar);

    private static void CheckPath(GemmPath path) => GemmTestCase.WithPath(path, () =>
    {
        foreach (var c in GemmTestCase.AllTransposes(Sizes, pad: 1))
        {
            foreach (var activation in new[] { Activation.None, Activation.Relu })
            {
                CheckAgainstReference(c, activation, separateOutput: false);
                CheckAgainstReference(c, activation, separateOutput: true);
            }
        }
    });

    /// <summary>
    /// Reference: the naive product in double, plus the bias, then ReLU. C's valid elements start as NaN (the epilogue
    /// GEMM has beta = 0 and must not read them); its padding holds a sentinel that must survive.
    /// </summary>
    private static void CheckAgainstReference(GemmTestCase c, Activation activation, bool separateOutput)
    {
        var (a, b, cInit) = c.Operands();
        var bias = Enumerable.Range(0, c.N).Select(j => Math.Round(Math.Sin(j + c.Seed) * 3, 3)).ToArray();
        var garbage = (double[])cInit.Clone();
        for (int i = 0; i < c.M; i++)
            for (int j = 0; j < c.N; j++) garbage[i * c.Ldc + j] = double.NaN;

        var pre = (double[])cInit.Clone();
        ReferenceGemmInto(c, a, b, pre);
        for (int i = 0; i < c.M; i++)
            for (int j = 0; j < c.N; j++) pre[i * c.Ldc + j] += bias[j];
        var post = activation == Activation.Relu ? Array.ConvertAll(pre, v => v == 12345.0 ? v : Math.Max(v, 0)) : pre;
        string what = $"{c} {activation}{(separateOutput ? " into a separate output" : "")} ";

        // float
        var cf = GemmTestCase.ToFloat(garbage);
        var outF = separateOutput ? GemmTestCase.ToFloat(cInit) : [];
        Gemm.GemmBiasActivation<float>(c.TransA, c.TransB, c.M, c.N, c.K, GemmTestCase.ToFloat(a), c.Lda, GemmTestCase.ToFloat(b), c.Ldb,
            cf, c.Ldc, GemmTestCase.ToFloat(bias), activation, outF);
        TensorAssert.Close(GemmTestCase.ToFloat(separateOutput ? pre : post), cf, c.FloatTolerance, 1e-5, "sgemm C " + what);
        if (separateOutput) TensorAssert.Close(GemmTestCase.ToFloat(post), outF, c.FloatTolerance, 1e-5, "sgemm activated " + what);

        // double
        var cd = (double[])garbage.Clone();
        var outD = separateOutput ? (double[])cInit.Clone() : [];
        Gemm.GemmBiasActivation<double>(c.TransA, c.TransB, c.M, c.N, c.K, a, c.Lda, b, c.Ldb, cd, c.Ldc, bias, activation, outD);
        TensorAssert.Close(separateOutput ? pre : post, cd, 1e-12 * (c.K + 1) * 4, 1e-12, "dgemm C " + what);
        if (separateOutput) TensorAssert.Close(post, outD, 1e-12 * (c.K + 1) * 4, 1e-12, "dgemm activated " + what);
    }

    private static void ReferenceGemmInto(GemmTestCase c, double[] a, double[] b, double[] result) =>
        Loom.Kernels.Reference.ReferenceGemm.Gemm(c.TransA, c.TransB, c.M, c.N, c.K, 1.0, a, c.Lda, b, c.Ldb, 0.0, result, c.Ldc);

    public static TheoryData<Activation> Activations => new(Enum.GetValues<Activation>().Where(a => a != Activation.None));

    [Theory]
    [MemberData(nameof(Activations))]
    public void Every_activation_in_the_epilogue_gives_what_the_tensor_op_gives_on_the_biased_product(Activation activation)
    {
        foreach (var (m, n, k) in new[] { (1, 37, 50), (1, 64, 48), (13, 33, 12), (30, 70, 2 * 384 + 1), (9, 1, 20) })
        {
            var c = new GemmTestCase { M = m, N = n, K = k, TransB = true, Seed = m + n + k };
            var (a, b, _) = c.Operands();
            var (af, bf) = (GemmTestCase.ToFloat(a), GemmTestCase.ToFloat(b));
            var bias = Enumerable.Range(0, n).Select(j => (float)Math.Cos(j) * 2).ToArray();
            var pre = new float[m * n];
            Gemm.GemmBiasActivation<float>(false, true, m, n, k, af, c.Lda, bf, c.Ldb, pre, n, bias, Activation.None, []);
            var expected = TensorOp(Tensor.FromArray(pre, [m, n]), activation).ToArray<float>();

            var fused = new float[m * n];
            Gemm.GemmBiasActivation<float>(false, true, m, n, k, af, c.Lda, bf, c.Ldb, fused, n, bias, activation, []);
            TensorAssert.Close(expected, fused, 1e-6, 1e-6, $"{activation} in place, m={m} n={n} k={k} ");

            var kept = new float[m * n];
            var activated = new float[m * n];
            Gemm.GemmBiasActivation<float>(false, true, m, n, k, af, c.Lda, bf, c.Ldb, kept, n, bias, activation, activated);
            Assert.Equal(pre, kept);
            TensorAssert.Close(expected, activated, 1e-6, 1e-6, $"{activation} into a separate output, m={m} n={n} k={k} ");
        }
    }

    private static Tensor TensorOp(Tensor x, Activation activation) => activation switch
    {
        Activation.Relu => x.Relu(),
        Activation.Gelu => x.Gelu(),
        Activation.GeluTanh => x.Gelu(approximate: true),
        Activation.Silu => x.Silu(),
        Activation.Sigmoid => x.Sigmoid(),
        Activation.Tanh => x.Tanh(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    public static TheoryData<int, int, int> ThreadedShapes => new()
    {
        { 200, 300, 150 },  // threads split the columns of C
        { 600, 20, 300 },   // too narrow for that: threads split the rows (the activation output must follow)
        { 1, 3003, 400 },   // matrix-vector, threads split the output (at 1501: not a multiple of the 4-row block)
        { 3000, 1, 400 },
    };

    [Theory]
    [MemberData(nameof(ThreadedShapes))]
    public void Epilogue_results_are_identical_on_one_and_two_threads(int m, int n, int k)
    {
        var c = new GemmTestCase { M = m, N = n, K = k, TransB = true };
        var (a, b, _) = c.Operands();
        var (af, bf) = (GemmTestCase.ToFloat(a), GemmTestCase.ToFloat(b));
        var bias = Enumerable.Range(0, n).Select(j => (float)Math.Sin(j)).ToArray();
        (float[] C, float[] Y) Run(int threads)
        {
            var cc = new float[m * n];
            var y = new float[m * n];
            GlobalSettings.WithThreads(threads, () =>
                Gemm.GemmBiasActivation<float>(false, true, m, n, k, af, c.Lda, bf, c.Ldb, cc, n, bias, Activation.Gelu, y));
            return (cc, y);
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one.C, two.C);
        Assert.Equal(one.Y, two.Y);
        var expected = Tensor.FromArray(one.C, [m, n]).Gelu().ToArray<float>();
        TensorAssert.Close(expected, two.Y, 1e-6, 1e-6, "GELU of the kept pre-activation ");
    }

    [Fact]
    public void An_empty_sum_leaves_the_activated_bias()
    {
        var c = new float[] { float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN };
        Gemm.GemmBiasActivation<float>(false, true, 2, 3, 0, [], 1, [], 1, c, 3, [-1f, 0.5f, 2f], Activation.Relu, []);
        Assert.Equal(new[] { 0f, 0.5f, 2f, 0f, 0.5f, 2f }, c);
    }

    [Fact]
    public void A_short_bias_or_activation_output_is_refused()
    {
        var a = new float[6];
        var b = new float[6];
        TensorAssert.Throws<ArgumentException>(() =>
            Gemm.GemmBiasActivation<float>(false, true, 2, 3, 2, a, 2, b, 2, new float[6], 3, new float[2], Activation.None, []), "bias", "2 elements", "3 columns");
        TensorAssert.Throws<ArgumentException>(() =>
            Gemm.GemmBiasActivation<float>(false, true, 2, 3, 2, a, 2, b, 2, new float[6], 3, [], Activation.Relu, new float[5]), "activation output", "needs 6");
    }
}
