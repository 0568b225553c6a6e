using static Loom.Nn.Attention;

namespace Loom.Nn.Tests.Attention;

public class ScaledDotProductAttentionTests
{
    private const DType F64 = DType.Float64;

    /// <summary>
    /// The definition, one query row at a time in double: softmax(scale·q·kᵀ + mask)·v over [N, L, D] / [N, S, D] /
    /// [N, S, Dv] with an additive mask [N, L, S] (−∞ where masked).
    /// </summary>
    private static double[] Reference(Tensor q, Tensor k, Tensor v, Tensor? additiveMask, double scale)
    {
        int n = q.Shape[0], l = q.Shape[1], d = q.Shape[2], s = k.Shape[1], dv = v.Shape[2];
        double[] qa = q.ToArray<double>(), ka = k.ToArray<double>(), va = v.ToArray<double>();
        var ma = additiveMask?.ToArray<double>();
        var result = new double[n * l * dv];
        var scores = new double[s];
        for (int b = 0; b < n; b++)
            for (int i = 0; i < l; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < s; j++)
                {
                    double dot = 0;
                    for (int p = 0; p < d; p++) dot += qa[(b * l + i) * d + p] * ka[(b * s + j) * d + p];
                    scores[j] = scale * dot + (ma?[(b * l + i) * s + j] ?? 0);
                    max = Math.Max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j < s; j++) sum += scores[j] = Math.Exp(scores[j] - max);
                for (int j = 0; j < s; j++)
                    for (int p = 0; p < dv; p++)
                        result[(b * l + i) * dv + p] += scores[j] / sum * va[(b * s + j) * dv + p];
            }
        return result;
    }

    public static TheoryData<int, int> Lengths()
    {
        var data = new TheoryData<int, int>();
        foreach (int l in new[] { 0, 1, 7, 17 })
            foreach (int s in new[] { 1, 7, 33 })
                data.Add(l, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Matches_the_definition_with_and_without_a_mask(int l, int s)
    {
        var q = TestTensors.Randn(1, F64, 2, 3, l, 5);
        var k = TestTensors.Randn(2, F64, 2, 3, s, 5);
        var v = TestTensors.Randn(3, F64, 2, 3, s, 6);
        var plain = ScaledDotProductAttention(q, k, v);
        Assert.Equal(new Shape(2, 3, l, 6), plain.Shape);
        TensorAssert.Close(Reference(q.Reshape(6, l, 5), k.Reshape(6, s, 5), v.Reshape(6, s, 6), null, 1 / Math.Sqrt(5)), plain.ToArray<double>(), 1e-12, 1e-10);

        // A random Bool mask that leaves key 0 visible to every query, broadcast over the batch.
        var mask = TestTensors.Uniform(4, 0, 1, F64, 3, l, s).Lt(0.4);
        using (new Autograd.NoGrad()) mask.Narrow(-1, 0, 1).FillInPlace(0);
        var additive = Tensor.Zeros(new Shape(2, 3, l, s), F64).MaskedFill(mask, double.NegativeInfinity);
        var masked = ScaledDotProductAttention(q, k, v, mask, scale: 0.5);
        TensorAssert.Close(Reference(q.Reshape(6, l, 5), k.Reshape(6, s, 5), v.Reshape(6, s, 6), additive.Reshape(6, l, s), 0.5), masked.ToArray<double>(), 1e-12, 1e-10);
        TensorAssert.Close(masked, ScaledDotProductAttention(q, k, v, additive, scale: 0.5), 1e-12, 0);
    }

    [Fact]
    public void Non_contiguous_and_broadcast_inputs_give_the_same_result()
    {
        var q = TestTensors.Randn(1, DType.Float32, 2, 3, 7, 8);
        var k = TestTensors.Randn(2, DType.Float32, 1, 3, 9, 8);
        var v = TestTensors.Randn(3, DType.Float32, 1, 3, 9, 4);
        var expected = ScaledDotProductAttention(q, k.Expand(2, 3, 9, 8).Contiguous(), v.Expand(2, 3, 9, 4).Contiguous());
        TensorAssert.Close(expected, ScaledDotProductAttention(q, k, v), 1e-6, 1e-5);
        TensorAssert.Close(expected, ScaledDotProductAttention(TestTensors.NonContiguous(q), k.Expand(2, 3, 9, 8), TestTensors.NonContiguous(v)), 1e-6, 1e-5);
    }

    [Fact]
    public void Is_causal_equals_the_causal_mask_aligned_to_the_last_keys()
    {
        var q = TestTensors.Randn(1, F64, 2, 4, 3);
        var k = TestTensors.Randn(2, F64, 2, 6, 3);
        var v = TestTensors.Randn(3, F64, 2, 6, 3);
        TensorAssert.Close(ScaledDotProductAttention(q, k, v, CausalMask(4, 6)), ScaledDotProductAttention(q, k, v, isCausal: true), 0, 0);
        var extra = Tensor.Zeros(new Shape(2, 1, 6), DType.Bool);
        using (new Autograd.NoGrad()) extra.Select(0, 1).Narrow(-1, 0, 1).FillInPlace(1);
        TensorAssert.Close(ScaledDotProductAttention(q, k, v, CausalMask(4, 6).LogicalOr(extra)), ScaledDotProductAttention(q, k, v, extra, isCausal: true), 0, 0);
    }

    [Fact]
    public void Gradients_match_finite_differences_with_a_float_mask()
    {
        var q = TestTensors.Param(1, 2, 3, 4);
        var k = TestTensors.Param(2, 2, 5, 4);
        var v = TestTensors.Param(3, 2, 5, 3);
        var mask = TestTensors.Param(4, 3, 5);
        TensorAssert.GradientsMatch(t => ScaledDotProductAttention(t[0], t[1], t[2], t[3]), q, k, v, mask);
        TensorAssert.GradientsMatch(t => ScaledDotProductAttention(t[0], t[1], t[2], isCausal: true, scale: 0.7), q, k, v);
    }

    [Fact]
    public void Bad_shapes_are_rejected_naming_the_shapes()
    {
        var q = Tensor.Randn(2, 3, 4);
        var k = Tensor.Randn(2, 5, 4);
        TensorAssert.Throws<ArgumentException>(() => ScaledDotProductAttention(q, Tensor.Randn(2, 5, 3), k), "[2, 3, 4]", "[2, 5, 3]");
        TensorAssert.Throws<ArgumentException>(() => ScaledDotProductAttention(q, k, Tensor.Randn(2, 6, 4)), "key [2, 5, 4]", "value [2, 6, 4]");
        TensorAssert.Throws<ArgumentException>(() => ScaledDotProductAttention(q, k, k, CausalMask(3)), "mask [3, 3]", "[2, 3, 5]");
        TensorAssert.Throws<ArgumentException>(() => ScaledDotProductAttention(k, q, q, isCausal: true), "query [2, 5, 4]", "key [2, 3, 4]");
    }
}
