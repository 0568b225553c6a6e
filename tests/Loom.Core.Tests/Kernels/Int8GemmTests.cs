namespace Loom.Tests.Kernels;

/// <summary>Every int8 path, forced, against the naive integer reference; quantisation round trips and bad input.</summary>
[Collection(GlobalSettings.Name)]
public class Int8GemmTests
{
    /// <summary>Odd shapes around the tiles (4×32 and 3×32 rows × columns, 16-column panels, k in steps of 4).</summary>
    private static readonly (int M, int N, int K)[] Shapes =
        [(1, 1, 1), (1, 17, 5), (2, 33, 3), (3, 32, 4), (4, 31, 7), (5, 16, 9), (7, 70, 13), (13, 15, 130), (64, 45, 63), (9, 100, 259)];

    [Int8PathFact(Int8GemmPath.AvxVnni)]
    public void AvxVnni_path_matches_reference() => CheckPath(Int8GemmPath.AvxVnni);

    [Int8PathFact(Int8GemmPath.Avx512BW)]
    public void Avx512BW_path_matches_reference() => CheckPath(Int8GemmPath.Avx512BW);

    [Int8PathFact(Int8GemmPath.Avx2)]
    public void Avx2_path_matches_reference() => CheckPath(Int8GemmPath.Avx2);

    [Int8PathFact(Int8GemmPath.Scalar)]
    public void Scalar_path_matches_reference() => CheckPath(Int8GemmPath.Scalar);

    private static void CheckPath(Int8GemmPath path) => WithPath(path, () =>
    {
        Assert.Equal(path, Int8Gemm.ActivePath);
        int seed = 0;
        foreach (var (m, n, k) in Shapes)
            new Int8Case(m, n, k, ++seed).CheckAll();
        // The extremes: every pair of products at 2·127·127, the most vpmaddubsw ever sees; zero point 0 and 127.
        new Int8Case(5, 40, 37, 99) { Extreme = true, ZeroA = 0 }.CheckAll();
        new Int8Case(5, 40, 37, 98) { Extreme = true, ZeroA = 127 }.CheckAll();
        // Large enough for the threads to split the columns.
        GlobalSettings.WithThreads(2, () => new Int8Case(70, 200, 300, 7).CheckAll());
        // One column pair but many rows (a convolution's 32 output channels): the threads split the rows, in blocks
        // of whole tiles, the second ending on leftover rows for the one-row kernel.
        GlobalSettings.WithThreads(2, () => new Int8Case(1003, 20, 57, 8).CheckAll());
    });

    [Fact]
    public void Every_supported_path_gives_the_same_bits()
    {
        var c = new Int8Case(37, 90, 301, 3);
        float[]? first = null;
        foreach (var path in Enum.GetValues<Int8GemmPath>())
        {
            if (!Int8Gemm.IsSupported(path)) continue;
            var result = WithPath(path, () => c.RunDequantize());
            if (first == null) first = result;
            else Assert.Equal(first, result); // exact: integer sums, then one epilogue formula
        }
    }

    [Fact]
    public void Auto_picks_vnni_first_then_avx512bw_then_avx2()
    {
        var expected = Int8Gemm.IsSupported(Int8GemmPath.AvxVnni) ? Int8GemmPath.AvxVnni
            : Int8Gemm.IsSupported(Int8GemmPath.Avx512BW) ? Int8GemmPath.Avx512BW
            : Int8Gemm.IsSupported(Int8GemmPath.Avx2) ? Int8GemmPath.Avx2 : Int8GemmPath.Scalar;
        Assert.Equal(expected, WithPath(Int8GemmPath.Auto, () => Int8Gemm.ActivePath));
    }

    [Fact]
    public void Out_of_range_operands_are_rejected_with_the_position()
    {
        var w = new Int8PackedWeights(new sbyte[] { 1, 2, 3 }, 1, 3, 3);
        var a = new byte[] { 1, 200, 3, 0 };
        TensorAssert.Throws<ArgumentException>(() => Int8Gemm.Multiply(1, a, 4, 0, w, new int[1], 1), "activation [0, 1] is 200", "[0, 127]");
        TensorAssert.Throws<ArgumentException>(() => new Int8PackedWeights(new sbyte[] { 1, -128 }, 1, 2, 2), "weight [0, 1] is -128");
        TensorAssert.Throws<ArgumentException>(() => Int8Gemm.Multiply(1, new byte[4], 3, 0, w, new int[1], 1), "lda >= 4");
        TensorAssert.Throws<ArgumentException>(() => Int8Gemm.Multiply(2, new byte[4], 4, 0, w, new int[2], 1), "need 8 bytes");
        TensorAssert.Throws<ArgumentException>(() =>
            Int8Gemm.MultiplyDequantize(1, new byte[4], 4, 1f, 0, w, [], [], new float[1], 1), "1 weight scales");
    }

    [Fact]
    public void Packed_weights_read_back_as_stored()
    {
        var random = new System.Random(4);
        var raw = new sbyte[19 * 11];
        for (int i = 0; i < raw.Length; i++) raw[i] = (sbyte)random.Next(-127, 128);
        var w = new Int8PackedWeights(raw, 19, 11, 11);
        for (int j = 0; j < 19; j++)
            for (int p = 0; p < 11; p++)
                Assert.Equal(raw[j * 11 + p], w[j, p]);
    }

    [Fact]
    public void Activation_quantisation_round_trip_is_within_half_a_step()
    {
        var random = new System.Random(5);
        int m = 3, k = 77; // 77: the vector body (32 at a time) and the scalar tail
        var x = new float[m * k];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 7 - 2);
        int ldq = Int8Gemm.PaddedDepth(k);
        var q = Enumerable.Repeat((byte)255, m * ldq).ToArray();
        var qp = Int8Quantization.QuantizeActivations(x, m, k, k, q, ldq);
        Assert.InRange(qp.ZeroPoint, 1, 126);
        var back = new float[k];
        for (int i = 0; i < m; i++)
        {
            Int8Quantization.Dequantize(q.AsSpan(i * ldq, k), qp, back);
            for (int p = 0; p < k; p++)
            {
                float v = x[i * k + p];
                Assert.True(Math.Abs(back[p] - v) <= qp.Scale * 0.5f * 1.0001f, $"x {v} came back as {back[p]} with scale {qp.Scale}");
                // Element by element, the same rounding as the vector body: half to even of x · (1 / scale).
                int expected = Math.Clamp((int)MathF.Round(v * (1f / qp.Scale)) + qp.ZeroPoint, 0, 127);
                Assert.Equal(expected, q[i * ldq + p]);
            }
            for (int p = k; p < ldq; p++) Assert.Equal(0, q[i * ldq + p]);
        }
        var zero = Int8Quantization.ActivationParams(0f, 0f);
        Assert.Equal(new QuantParams(1f, 0), zero);
        Assert.Equal(0, Int8Quantization.ActivationParams(0f, 3f).ZeroPoint); // ReLU outputs use the whole range
    }

    [Fact]
    public void Weight_quantisation_is_symmetric_per_channel_within_half_a_step()
    {
        var random = new System.Random(6);
        int n = 5, k = 23;
        var w = new float[n * k];
        for (int i = 0; i < w.Length; i++) w[i] = (float)((random.NextDouble() - 0.5) * (1 + i / k)); // rows of different ranges
        Array.Clear(w, 2 * k, k); // an all-zero row gets scale 1, not a division by zero
        var q = new sbyte[n * k];
        var scales = new float[n];
        Int8Quantization.QuantizeWeightsPerChannel(w, n, k, q, scales);
        Assert.Equal(1f, scales[2]);
        for (int j = 0; j < n; j++)
        {
            if (j != 2) Assert.Equal(127, q.Skip(j * k).Take(k).Max(v => Math.Abs((int)v)));
            for (int p = 0; p < k; p++)
                Assert.True(Math.Abs(q[j * k + p] * scales[j] - w[j * k + p]) <= scales[j] * 0.5f * 1.0001f);
        }
    }

    internal static T WithPath<T>(Int8GemmPath path, Func<T> action)
    {
        var saved = Int8Gemm.ForcedPath;
        Int8Gemm.ForcedPath = path;
        try
        {
            return action();
        }
        finally
        {
            Int8Gemm.ForcedPath = saved;
        }
    }

    private static void WithPath(Int8GemmPath path, Action action) => WithPath(path, () => { action(); return 0; });

    /// <summary>One seeded product with padded rows (garbage past k in A, a sentinel past n in C).</summary>
    private sealed class Int8Case(int m, int n, int k, int seed)
    {
        public bool Extreme;
        public int ZeroA = 17 + seed % 50;
        private int Lda => Int8Gemm.PaddedDepth(k) + 4;
        private int Ldc => n + 3;

        private (byte[] A, sbyte[] W, float[] ScaleW, float[] Bias) Operands()
        {
            var random = new System.Random(seed);
            var a = new byte[m * Lda];
            for (int i = 0; i < m; i++)
                for (int p = 0; p < Lda; p++)
                    a[i * Lda + p] = p < k ? (byte)(Extreme ? 127 : random.Next(0, 128)) : (byte)255; // past k: never read as data
            var w = new sbyte[n * k];
            for (int i = 0; i < w.Length; i++) w[i] = (sbyte)(Extreme ? (i % 3 == 0 ? -127 : 127) : random.Next(-127, 128));
            var scaleW = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 0.01 + 1e-4)).ToArray();
            var bias = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            return (a, w, scaleW, bias);
        }

        public void CheckAll()
        {
            var (a, w, scaleW, bias) = Operands();
            var packed = new Int8PackedWeights(w, n, k, k);

            var expected = Filled(m * Ldc, int.MinValue);
            ReferenceInt8Gemm.Multiply(m, n, k, a, Lda, ZeroA, w, k, expected, Ldc);
            var actual = Filled(m * Ldc, int.MinValue);
            Int8Gemm.Multiply(m, a, Lda, ZeroA, packed, actual, Ldc);
            Assert.Equal(expected, actual);

            foreach (var b in new[] { bias, [] })
            {
                var expectedF = Filled(m * Ldc, float.NaN);
                ReferenceInt8Gemm.MultiplyDequantize(m, n, k, a, Lda, 0.02f, ZeroA, w, k, scaleW, b, expectedF, Ldc);
                var actualF = Filled(m * Ldc, float.NaN);
                Int8Gemm.MultiplyDequantize(m, a, Lda, 0.02f, ZeroA, packed, scaleW, b, actualF, Ldc);
                Assert.Equal(expectedF, actualF);
            }

            var actualQ = Filled(m * Ldc, (byte)200);
            Int8Gemm.MultiplyRequantize(m, a, Lda, 0.02f, ZeroA, packed, scaleW, bias, 0.05f, 60, actualQ, Ldc);
            var deq = new float[m * Ldc];
            ReferenceInt8Gemm.MultiplyDequantize(m, n, k, a, Lda, 0.02f, ZeroA, w, k, scaleW, bias, deq, Ldc);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < Ldc; j++)
                    Assert.Equal(j < n ? (byte)Math.Clamp((int)MathF.Round(deq[i * Ldc + j] * (1f / 0.05f)) + 60, 0, 127) : (byte)200, actualQ[i * Ldc + j]);
        }

        public float[] RunDequantize()
        {
            var (a, w, scaleW, bias) = Operands();
            var c = new float[m * Ldc];
            Int8Gemm.MultiplyDequantize(m, a, Lda, 0.02f, ZeroA, new Int8PackedWeights(w, n, k, k), scaleW, bias, c, Ldc);
            return c;
        }

        private static T[] Filled<T>(int length, T value) => Enumerable.Repeat(value, length).ToArray();
    }
}

public sealed class Int8PathFactAttribute : FactAttribute
{
    public Int8PathFactAttribute(Int8GemmPath path)
    {
        if (!Int8Gemm.IsSupported(path))
            Skip = $"this CPU (or runtime) does not support Int8GemmPath.{path}; the path is covered on machines that have it";
    }
}
