using Loom.Tests.Kernels;

namespace Loom.Tests.Attention;

/// <summary>
/// The fused <see cref="Functional.SelfAttention"/> against the unfused composition it replaces (Split, heads as
/// views, <see cref="Functional.ScaledDotProductAttention"/>, heads back), forward and qkv gradients, in float64.
/// </summary>
[Collection(GlobalSettings.Name)]
public class SelfAttentionTests
{
    private const DType F64 = DType.Float64;

    private static Tensor Unfused(Tensor qkv, int heads, bool causal, Tensor? keyPadding, double? scale = null)
    {
        int b = qkv.Shape[0], t = qkv.Shape[1], c = qkv.Shape[2] / 3, d = c / heads;
        var parts = qkv.Split(c, axis: 2);
        Tensor Heads(Tensor z) => z.Reshape(b, t, heads, d).Transpose(1, 2);
        var y = Functional.ScaledDotProductAttention(Heads(parts[0]), Heads(parts[1]), Heads(parts[2]), keyPadding?.Reshape(b, 1, 1, t),
            isCausal: causal, scale: scale);
        return y.Transpose(1, 2).Reshape(b, t, c);
    }

    /// <summary>Output and qkv gradient of Σ output ⊙ w, the upstream gradient w random.</summary>
    private static (Tensor Output, Tensor Grad) Run(Func<Tensor, Tensor> attention, Tensor qkv, Tensor w)
    {
        var x = qkv.Detach().RequiresGrad_();
        var y = attention(x);
        y.Mul(w).Sum().Backward();
        return (y.Detach(), x.Grad!);
    }

    // Lengths around the kernel's tiles (one 128 × 128 tile up to 128 tokens, 64 queries × 256 keys above), so that
    // the online softmax rescales across key tiles.
    [Theory]
    [InlineData(1, true)]
    [InlineData(7, true)]
    [InlineData(7, false)]
    [InlineData(70, true)]
    [InlineData(100, false)]
    [InlineData(128, true)]
    [InlineData(129, true)]
    [InlineData(300, true)]
    [InlineData(300, false)]
    public void Matches_the_unfused_attention_and_its_gradients(int tokens, bool causal)
    {
        const int heads = 3, d = 4, c = heads * d;
        var qkv = TestTensors.Randn(1, F64, 2, tokens, 3 * c).Mul(1.5); // scores of a few units: softmaxes far from uniform
        var w = TestTensors.Randn(2, F64, 2, tokens, c);
        var (expected, expectedGrad) = Run(x => Unfused(x, heads, causal, null), qkv, w);
        var (actual, actualGrad) = Run(x => Functional.SelfAttention(x, heads, causal), qkv, w);
        TensorAssert.Close(expected, actual, 1e-12, 1e-10);
        TensorAssert.Close(expectedGrad, actualGrad, 1e-12, 1e-10);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Padding_hides_keys_as_the_unfused_mask_does(bool causal)
    {
        const int heads = 2, d = 5, c = heads * d, t = 9;
        var qkv = TestTensors.Randn(3, F64, 3, t, 3 * c);
        var w = TestTensors.Randn(4, F64, 3, t, c);
        // Row 0 right-padded (the last 4 keys), row 1 none, row 2 with holes; key 0 stays visible to every query, so
        // no softmax is over nothing (the unfused one gives NaN there).
        var padding = new bool[3 * t];
        for (int j = 5; j < t; j++) padding[j] = true;
        padding[2 * t + 2] = padding[2 * t + 3] = padding[2 * t + 7] = true;
        var mask = Tensor.FromArray(padding, 3, t);
        var (expected, expectedGrad) = Run(x => Unfused(x, heads, causal, mask, 0.7), qkv, w);
        var (actual, actualGrad) = Run(x => Functional.SelfAttention(x, heads, causal, mask, 0.7), qkv, w);
        TensorAssert.Close(expected, actual, 1e-12, 1e-10);
        TensorAssert.Close(expectedGrad, actualGrad, 1e-12, 1e-10);
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var mask = Tensor.FromArray(new[] { false, false, false, false, true, false, false, true, false, false }, 2, 5);
        var qkv = TestTensors.Param(5, 2, 5, 3 * 6);
        Assert.Null(GradCheck.Run(x => Functional.SelfAttention(x[0], 2, isCausal: true, keyPadding: mask), [qkv]));
        Assert.Null(GradCheck.Run(x => Functional.SelfAttention(x[0], 3, isCausal: false), [qkv]));
    }

    [Fact]
    public void A_query_that_sees_no_key_outputs_zeros_and_passes_no_gradient()
    {
        const int t = 4;
        var mask = Tensor.FromArray(new[] { true, true, false, false }, 1, t); // left padding: queries 0 and 1 see nothing
        var qkv = TestTensors.Randn(6, F64, 1, t, 3 * 4);
        var (output, grad) = Run(x => Functional.SelfAttention(x, 2, isCausal: true, keyPadding: mask), qkv, Tensor.Ones(new Shape(1, t, 4), F64));
        Assert.All(output.Narrow(1, 0, 2).ToArray<double>(), v => Assert.Equal(0, v));
        Assert.False(grad.HasNonFinite());
        Assert.All(grad.Narrow(1, 0, 2).Narrow(2, 0, 4).ToArray<double>(), v => Assert.Equal(0, v)); // their queries
        Assert.Contains(output.Narrow(1, 2, 2).ToArray<double>(), v => v != 0);
    }

    [Fact]
    public void Float32_agrees_with_float64()
    {
        var qkv = TestTensors.Randn(7, F64, 2, 130, 3 * 32);
        var w = TestTensors.Randn(8, F64, 2, 130, 32);
        var (expected, expectedGrad) = Run(x => Functional.SelfAttention(x, 4), qkv, w);
        var (actual, actualGrad) = Run(x => Functional.SelfAttention(x, 4), qkv.To(DType.Float32), w.To(DType.Float32));
        TensorAssert.Close(expected, actual.To(F64), 1e-5, 1e-4);
        TensorAssert.Close(expectedGrad, actualGrad.To(F64), 1e-4, 1e-3);
    }

    // Heads of 64 and 48 take the in-place tile products (AttentionTileGemm: 32- and 16-column tiles, an 8-row
    // remainder at 13, 70 and 100 tokens, one 128 × 128 tile up to 128 tokens, two query tiles at 129, two key tiles
    // at 300); float32 against float64 and against the same op with GEMM doing the products (the AVX2 path forced),
    // forward and gradients, causal or not, with one batch row padded or no mask.
    [GemmPathFact(GemmPath.Avx512)]
    public void Float32_tile_products_agree_with_gemm_and_float64()
    {
        foreach (int d in new[] { 64, 48 })
            foreach (int tokens in new[] { 1, 13, 70, 100, 128, 129, 300 })
                foreach (bool causal in new[] { true, false })
                    foreach (bool padded in new[] { true, false })
                    {
                        const int heads = 2;
                        int c = heads * d;
                        var qkv = TestTensors.Randn(tokens + d, F64, 2, tokens, 3 * c);
                        var w = TestTensors.Randn(tokens + d + 1, F64, 2, tokens, c);
                        var padding = new bool[2 * tokens];
                        for (int j = 1; j < tokens; j += 3) padding[tokens + j] = true; // key 0 stays visible
                        var mask = padded ? Tensor.FromArray(padding, 2, tokens) : null;
                        Tensor Attention(Tensor x) => Functional.SelfAttention(x, heads, causal, mask);
                        var (expected, expectedGrad) = Run(Attention, qkv, w);
                        var (fast, fastGrad) = Run(Attention, qkv.To(DType.Float32), w.To(DType.Float32));
                        var (gemm, gemmGrad) = GemmTestCase.WithPath(GemmPath.Avx2, () => Run(Attention, qkv.To(DType.Float32), w.To(DType.Float32)));
                        TensorAssert.Close(expected, fast.To(F64), 1e-5, 1e-4);
                        TensorAssert.Close(expectedGrad, fastGrad.To(F64), 1e-4, 1e-3);
                        TensorAssert.Close(gemm, fast, 1e-6, 1e-5);
                        TensorAssert.Close(gemmGrad, fastGrad, 1e-5, 1e-4);
                    }
    }

    // The in-place path's row passes compute whole 16-key vectors and select away the keys a row may not see. Here
    // every later key scores 10 more than the one before (q = 1, k_j = 1.25·(j + 1), scale 1/8 over 64 dims), so a
    // hidden key that reached a row's max would underflow all of its weights (exp(−150) = 0 in float) and one that
    // reached its sum would make it infinite: causal rows of 1–40 keys (no multiple of 16), and without the causal
    // mask the last ten keys as padding (they score highest).
    [GemmPathFact(GemmPath.Avx512)]
    public void Hidden_keys_never_reach_a_row_of_the_in_place_path()
    {
        const int tokens = 40, d = 64;
        var values = new double[2 * tokens * 3 * d];
        var random = new System.Random(5);
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < tokens; t++)
                for (int x = 0; x < d; x++)
                {
                    int row = (b * tokens + t) * 3 * d;
                    values[row + x] = 1;
                    values[row + d + x] = 1.25 * (t + 1);
                    values[row + 2 * d + x] = random.NextDouble() - 0.5;
                }
        var qkv = Tensor.FromArray(values, 2, tokens, 3 * d);
        var w = TestTensors.Randn(12, F64, 2, tokens, d);
        var padding = new bool[2 * tokens];
        for (int j = 30; j < tokens; j++) padding[j] = padding[tokens + j] = true;
        var mask = Tensor.FromArray(padding, 2, tokens);
        foreach (bool causal in new[] { true, false })
        {
            var keyPadding = causal ? null : mask;
            var (expected, expectedGrad) = Run(x => Unfused(x, 1, causal, keyPadding), qkv, w);
            var (actual, actualGrad) = Run(x => Functional.SelfAttention(x, 1, causal, keyPadding), qkv.To(DType.Float32), w.To(DType.Float32));
            Assert.False(actual.HasNonFinite());
            TensorAssert.Close(expected, actual.To(F64), 1e-5, 1e-4);
            TensorAssert.Close(expectedGrad, actualGrad.To(F64), 1e-4, 1e-3);
        }
    }

    // The backward does not clear d(qkv): the first product into each row writes it, later ones accumulate. Over a
    // buffer of NaN, a row that no product wrote, or one accumulated into before it was written, stays NaN. Lengths
    // around the tiles (one of 128 × 128 up to 128 tokens, 64 queries × 256 keys above), causal or not, one batch row
    // padded; float32 on the in-place path and on GEMM (AVX2 forced), float64 on GEMM; the result equals the one over zeros.
    [GemmPathFact(GemmPath.Avx512)]
    public void The_backward_writes_every_element_of_the_gradient()
    {
        foreach (int tokens in new[] { 1, 13, 64, 70, 128, 129, 300 })
            foreach (bool causal in new[] { true, false })
            {
                const int batch = 2, heads = 2, d = 64, c = heads * d;
                var qkv = TestTensors.Randn(tokens, DType.Float32, batch, tokens, 3 * c).ToArray<float>();
                var dOut = TestTensors.Randn(tokens + 1, DType.Float32, batch, tokens, c).ToArray<float>();
                var hidden = new bool[batch * tokens];
                for (int j = 1; j < tokens; j += 3) hidden[tokens + j] = true;
                Check(qkv, dOut);
                GemmTestCase.WithPath(GemmPath.Avx2, () => Check(qkv, dOut));
                Check(Array.ConvertAll(qkv, x => (double)x), Array.ConvertAll(dOut, x => (double)x));

                void Check<T>(T[] x, T[] g) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
                {
                    var output = new T[batch * tokens * c];
                    var lse = new T[batch * heads * tokens];
                    T scale = T.One / T.Sqrt(T.CreateTruncating(d));
                    Loom.Kernels.AttentionKernels.Forward<T>(x, hidden, output, lse, batch, tokens, heads, d, scale, causal);
                    T[] Gradient(T fill)
                    {
                        var grad = new T[x.Length];
                        Array.Fill(grad, fill);
                        Loom.Kernels.AttentionKernels.Backward<T>(x, hidden, output, lse, g, grad, batch, tokens, heads, d, scale, causal);
                        return grad;
                    }
                    var overNaN = Gradient(T.NaN);
                    var overZeros = Gradient(T.Zero);
                    Assert.DoesNotContain(overNaN, T.IsNaN);
                    // Equal up to GEMM's own run-to-run rounding (its float64 path moved the last bit between calls).
                    for (int i = 0; i < overNaN.Length; i++)
                        Assert.True(T.Abs(overNaN[i] - overZeros[i]) <= T.CreateTruncating(1e-6) * (T.One + T.Abs(overZeros[i])), $"element {i}");
                }
            }
    }

    [Fact]
    public void Threads_do_not_change_a_result()
    {
        var qkv = TestTensors.Randn(9, DType.Float32, 4, 100, 3 * 64);
        var w = TestTensors.Randn(10, DType.Float32, 4, 100, 64);
        float[][] Values() { var (y, g) = Run(x => Functional.SelfAttention(x, 4), qkv, w); return [y.ToArray<float>(), g.ToArray<float>()]; }
        float[][] one = [], two = [];
        GlobalSettings.WithThreads(1, () => one = Values());
        GlobalSettings.WithThreads(2, () => two = Values());
        Assert.Equal(one[0], two[0]);
        Assert.Equal(one[1], two[1]);
    }

    [Fact]
    public void Bad_shapes_are_refused_with_a_clear_message()
    {
        var qkv = Tensor.Zeros(new Shape(2, 5, 12));
        Assert.Contains("[B, T, 3·C]", Assert.Throws<ArgumentException>(() => Functional.SelfAttention(Tensor.Zeros(new Shape(2, 5, 13)), 2)).Message);
        Assert.Contains("not divisible into 3 heads", Assert.Throws<ArgumentException>(() => Functional.SelfAttention(qkv, 3)).Message);
        Assert.Contains("keyPadding must be Bool [2, 5]", Assert.Throws<ArgumentException>(() => Functional.SelfAttention(qkv, 2, keyPadding: Tensor.Zeros(new Shape(2, 4), DType.Bool))).Message);
    }
}
