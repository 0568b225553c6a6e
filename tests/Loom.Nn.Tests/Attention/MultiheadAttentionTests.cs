using static Loom.Nn.Attention;

namespace Loom.Nn.Tests.Attention;

public class MultiheadAttentionTests
{
    private const DType F64 = DType.Float64;

    private static MultiheadAttention Mha(int e, int heads, bool batchFirst = true, int? kdim = null, int? vdim = null, bool bias = true,
        double dropout = 0, DType dtype = F64, ulong seed = 7)
    {
        var m = new MultiheadAttention(e, heads, dropout, bias, batchFirst, kdim, vdim, dtype, new Generator(seed));
        // Non-zero biases, so that a bias applied to the wrong slice or skipped shows up.
        using (new NoGrad())
            foreach (var p in m.Parameters())
                if (p.Rank == 1) p.CopyFrom(Tensor.Randn(p.Shape, new Generator(seed + 1), dtype, std: 0.3));
        return m;
    }

    private static Tensor Padding(params bool[][] rows) => Tensor.FromRows(rows);

    [Fact]
    public void Causal_mask_is_true_above_the_diagonal()
    {
        var mask = CausalMask(4);
        Assert.Equal(DType.Bool, mask.DType);
        Assert.Equal(new Shape(4, 4), mask.Shape);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(j > i, mask.Select(0, i).Select(0, j).Item<bool>());
        Assert.Equal(0, CausalMask(0).Numel);
    }

    [Fact]
    public void Rectangular_causal_mask_aligns_the_queries_to_the_last_keys()
    {
        // Two new queries at positions 3 and 4 of five keys.
        var mask = CausalMask(2, 5).ToArray<bool>();
        Assert.Equal(new[] { false, false, false, false, true, false, false, false, false, false }, mask);
        TensorAssert.Throws<ArgumentException>(() => CausalMask(3, 2), "queryLength 3", "keyLength 2");
    }

    [Fact]
    public void Padded_keys_receive_zero_attention_weight_and_rows_sum_to_one()
    {
        var m = Mha(8, 2);
        var q = TestTensors.Randn(1, F64, 2, 3, 8);
        var kv = TestTensors.Randn(2, F64, 2, 5, 8);
        var pad = Padding([false, true, false, false, true], [false, false, false, false, true]);
        var (_, weights) = m.Forward(q, kv, kv, keyPaddingMask: pad, averageAttnWeights: false);
        Assert.Equal(new Shape(2, 2, 3, 5), weights!.Shape);
        var w = weights.ToArray<double>();
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 2; h++)
                for (int i = 0; i < 3; i++)
                {
                    double sum = 0;
                    for (int j = 0; j < 5; j++)
                    {
                        double x = w[((b * 2 + h) * 3 + i) * 5 + j];
                        if (pad.Select(0, b).Select(0, j).Item<bool>()) Assert.Equal(0.0, x);
                        else Assert.True(x > 0);
                        sum += x;
                    }
                    Assert.Equal(1.0, sum, 12);
                }
    }

    [Fact]
    public void Padded_keys_do_not_influence_the_output()
    {
        var m = Mha(8, 4);
        var q = TestTensors.Randn(1, F64, 2, 3, 8);
        var kv = TestTensors.Randn(2, F64, 2, 5, 8);
        var pad = Padding([false, false, false, true, true], [false, false, false, false, false]);
        var changed = kv.Clone();
        using (new NoGrad()) changed.Select(0, 0).Narrow(0, 3, 2).CopyFrom(TestTensors.Randn(3, F64, 2, 8));
        var before = m.Forward(q, kv, kv, keyPaddingMask: pad).Output;
        var after = m.Forward(q, changed, changed, keyPaddingMask: pad).Output;
        TensorAssert.Close(before, after, 1e-12, 0);
        // Without the mask the change is visible, so the comparison above can fail.
        Assert.False(m.Forward(q, kv, kv).Output.AllClose(m.Forward(q, changed, changed).Output));
    }

    [Fact]
    public void Causal_attention_outputs_ignore_later_positions()
    {
        var m = Mha(8, 2);
        var x = TestTensors.Randn(1, F64, 2, 6, 8);
        var changed = x.Clone();
        using (new NoGrad()) changed.Narrow(1, 4, 2).CopyFrom(TestTensors.Randn(2, F64, 2, 2, 8));
        var (before, weights) = m.Forward(x, x, x, isCausal: true);
        var after = m.Forward(changed, changed, changed, isCausal: true).Output;
        TensorAssert.Close(before.Narrow(1, 0, 4), after.Narrow(1, 0, 4), 1e-12, 0);
        Assert.False(before.Narrow(1, 4, 2).AllClose(after.Narrow(1, 4, 2)));
        var w = weights!.ToArray<double>();
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 6; i++)
                for (int j = i + 1; j < 6; j++)
                    Assert.Equal(0.0, w[(b * 6 + i) * 6 + j]);
    }

    [Fact]
    public void Bool_masks_equal_their_additive_float_form()
    {
        var m = Mha(8, 2);
        var x = TestTensors.Randn(1, F64, 2, 5, 8);
        var causal = CausalMask(5);
        var pad = Padding([false, false, false, true, true], [false, false, false, false, false]);
        var (expected, expectedWeights) = m.Forward(x, x, x, keyPaddingMask: pad, attnMask: causal);
        var additive = Tensor.Zeros(new Shape(5, 5), F64).MaskedFill(causal, double.NegativeInfinity);
        var additivePad = Tensor.Zeros(new Shape(2, 5), DType.Float32).MaskedFill(pad, double.NegativeInfinity);
        // Mixed: float attention mask with Bool padding, and Bool attention mask with float (float32) padding.
        var (a, aw) = m.Forward(x, x, x, keyPaddingMask: pad, attnMask: additive);
        var (b, bw) = m.Forward(x, x, x, keyPaddingMask: additivePad, attnMask: causal);
        TensorAssert.Close(expected, a, 1e-12, 0);
        TensorAssert.Close(expected, b, 1e-12, 0);
        TensorAssert.Close(expectedWeights!, aw!, 1e-12, 0);
        TensorAssert.Close(expectedWeights!, bw!, 1e-12, 0);
    }

    [Fact]
    public void Per_head_masks_apply_to_their_own_head()
    {
        var m = Mha(8, 2);
        var x = TestTensors.Randn(1, F64, 1, 4, 8);
        // Head 0 sees only the first key, head 1 only the last.
        var mask = Tensor.Ones(new Shape(2, 4, 4), DType.Bool);
        using (new NoGrad())
        {
            mask.Select(0, 0).Narrow(1, 0, 1).FillInPlace(0);
            mask.Select(0, 1).Narrow(1, 3, 1).FillInPlace(0);
        }
        var (_, weights) = m.Forward(x, x, x, attnMask: mask, averageAttnWeights: false);
        var w = weights!.ToArray<double>();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(1.0, w[(0 * 4 + i) * 4 + 0], 12);
            Assert.Equal(1.0, w[(1 * 4 + i) * 4 + 3], 12);
        }
        var (_, averaged) = m.Forward(x, x, x, attnMask: mask);
        TensorAssert.Close(weights.Mean(1), averaged!, 1e-12, 0);
    }

    [Fact]
    public void Sequence_first_layout_equals_batch_first_on_transposed_inputs()
    {
        var bf = Mha(8, 2, batchFirst: true);
        var sf = Mha(8, 2, batchFirst: false, seed: 99);
        sf.LoadStateDict(bf.StateDict());
        var q = TestTensors.Randn(1, F64, 3, 4, 8);
        var kv = TestTensors.Randn(2, F64, 3, 6, 8);
        var pad = Tensor.Zeros(new Shape(3, 6), DType.Bool);
        using (new NoGrad()) pad.Select(0, 1).Narrow(0, 4, 2).FillInPlace(1);
        var (expected, expectedWeights) = bf.Forward(q, kv, kv, keyPaddingMask: pad);
        var (actual, weights) = sf.Forward(q.Transpose(0, 1), kv.Transpose(0, 1), kv.Transpose(0, 1), keyPaddingMask: pad);
        TensorAssert.Close(expected, actual.Transpose(0, 1), 1e-12, 0);
        TensorAssert.Close(expectedWeights!, weights!, 1e-12, 0);
    }

    [Fact]
    public void Unbatched_input_equals_a_batch_of_one()
    {
        var m = Mha(8, 2, batchFirst: false);
        var q = TestTensors.Randn(1, F64, 4, 8);
        var kv = TestTensors.Randn(2, F64, 6, 8);
        var pad = Tensor.FromArray(new[] { false, false, true, false, false, true });
        var (expected, expectedWeights) = m.Forward(q.Unsqueeze(1), kv.Unsqueeze(1), kv.Unsqueeze(1), keyPaddingMask: pad.Unsqueeze(0));
        var (actual, weights) = m.Forward(q, kv, kv, keyPaddingMask: pad);
        Assert.Equal(new Shape(4, 8), actual.Shape);
        Assert.Equal(new Shape(4, 6), weights!.Shape);
        TensorAssert.Close(expected.Squeeze(1), actual, 1e-12, 0);
        TensorAssert.Close(expectedWeights!.Squeeze(0), weights, 1e-12, 0);
    }

    [Fact]
    public void Non_contiguous_inputs_give_the_same_result()
    {
        var m = Mha(8, 2, kdim: 6, vdim: 5);
        var q = TestTensors.Randn(1, F64, 2, 3, 8);
        var k = TestTensors.Randn(2, F64, 2, 4, 6);
        var v = TestTensors.Randn(3, F64, 2, 4, 5);
        var (expected, expectedWeights) = m.Forward(q, k, v);
        var (actual, weights) = m.Forward(TestTensors.NonContiguous(q), TestTensors.NonContiguous(k), TestTensors.NonContiguous(v));
        TensorAssert.Close(expected, actual, 1e-12, 0);
        TensorAssert.Close(expectedWeights!, weights!, 1e-12, 0);
    }

    [Fact]
    public void Need_weights_false_returns_no_weights_and_the_same_output()
    {
        var m = Mha(8, 4);
        var x = TestTensors.Randn(1, F64, 2, 3, 8);
        var (withWeights, _) = m.Forward(x, x, x);
        var (output, weights) = m.Forward(x, x, x, needWeights: false);
        Assert.Null(weights);
        TensorAssert.Close(withWeights, output, 0, 0);
    }

    [Fact]
    public void As_a_module_it_is_unmasked_self_attention_and_works_in_sequential()
    {
        var m = Mha(8, 2);
        var net = new Sequential(new Linear(8, 8, dtype: F64), m);
        var x = TestTensors.Randn(1, F64, 2, 3, 8);
        var h = ((Linear)net[0]).Forward(x);
        TensorAssert.Close(m.Forward(h, h, h).Output, net.Forward(x), 1e-12, 0);
        Assert.Contains("self_attn", new TransformerEncoderLayer(8, 2, dtype: F64).NamedChildren().Select(c => c.Name));
    }

    [Fact]
    public void Multi_argument_forward_runs_the_module_hooks()
    {
        var m = Mha(8, 2);
        var x = TestTensors.Randn(1, F64, 2, 3, 8);
        var doubled = x.Mul(2);
        var seen = new List<Tensor>();
        var pre = m.RegisterForwardPreHook((_, input) => ReferenceEquals(input, x) ? doubled : null);
        var post = m.RegisterForwardHook((Module _, Tensor input, Tensor output) => { seen.Add(input); seen.Add(output); });
        var (output, _) = m.Forward(x, x, x);
        Assert.Same(doubled, seen[0]);
        Assert.Same(output, seen[1]);
        // The replaced query also replaced key and value: the result is self-attention over the doubled input.
        pre.Remove();
        post.Remove();
        TensorAssert.Close(m.Forward(doubled, doubled, doubled).Output, output, 1e-12, 0);
    }

    [Fact]
    public void Parameters_use_pytorch_names_shapes_and_initialisation()
    {
        var m = new MultiheadAttention(16, 4);
        Assert.Equal(new[] { "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" }, m.StateDict().Keys);
        Assert.Equal(new Shape(48, 16), m.InProjWeight!.Shape);
        Assert.Equal(new Shape(48), m.InProjBias!.Shape);
        Assert.All(m.InProjBias.ToArray<float>(), b => Assert.Equal(0f, b));
        Assert.All(m.OutProj.Bias!.ToArray<float>(), b => Assert.Equal(0f, b));
        // Xavier uniform over [3E, E]: bound √(6 / (E + 3E)).
        double bound = Math.Sqrt(6.0 / 64);
        var w = m.InProjWeight.ToArray<float>();
        Assert.All(w, x => Assert.InRange(x, -bound, bound));
        Assert.True(w.Max() > 0.8 * bound && w.Min() < -0.8 * bound);

        var separate = new MultiheadAttention(8, 2, bias: false, kdim: 6, vdim: 5);
        Assert.Equal(new[] { "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight" }, separate.StateDict().Keys);
        Assert.Equal(new Shape(8, 6), separate.KProjWeight!.Shape);
        Assert.Equal(new Shape(8, 5), separate.VProjWeight!.Shape);
    }

    [Fact]
    public void Attention_dropout_acts_in_training_only()
    {
        var m = Mha(8, 2, dropout: 0.5);
        var plain = Mha(8, 2);
        var x = TestTensors.Randn(1, F64, 2, 6, 8);
        var (trainOut, trainWeights) = m.Forward(x, x, x, averageAttnWeights: false);
        Assert.Contains(0.0, trainWeights!.ToArray<double>());
        Assert.False(trainOut.AllClose(plain.Forward(x, x, x).Output));
        m.Eval();
        TensorAssert.Close(plain.Forward(x, x, x).Output, m.Forward(x, x, x).Output, 1e-12, 0);
    }

    [Fact]
    public void Gradients_match_finite_differences_with_a_causal_mask()
    {
        var m = Mha(4, 2);
        var x = TestTensors.Param(1, 2, 3, 4);
        TensorAssert.GradientsMatch(t =>
        {
            var (output, weights) = m.Forward(t[0], t[0], t[0], attnMask: CausalMask(3));
            return Tensor.Cat([output.Reshape(-1), weights!.Reshape(-1)]);
        }, [x, .. m.Parameters()]);
    }

    [Fact]
    public void Gradients_match_finite_differences_for_padded_cross_attention_with_separate_projections()
    {
        var m = Mha(4, 2, batchFirst: false, kdim: 3, vdim: 5);
        var q = TestTensors.Param(1, 2, 2, 4);
        var k = TestTensors.Param(2, 3, 2, 3);
        var v = TestTensors.Param(3, 3, 2, 5);
        var pad = Padding([false, false, true], [false, false, false]);
        TensorAssert.GradientsMatch(t => m.Forward(t[0], t[1], t[2], keyPaddingMask: pad, needWeights: false).Output, [q, k, v, .. m.Parameters()]);
    }

    [Fact]
    public void Gradients_match_finite_differences_for_shared_key_value_and_a_float_mask()
    {
        var m = Mha(4, 2);
        var q = TestTensors.Param(1, 1, 2, 4);
        var kv = TestTensors.Param(2, 1, 3, 4);
        var mask = TestTensors.Param(3, 2, 3);
        TensorAssert.GradientsMatch(t => m.Forward(t[0], t[1], t[1], attnMask: t[2], needWeights: false).Output, [q, kv, mask, .. m.Parameters()]);
    }

    [Fact]
    public void Embed_dim_not_divisible_by_heads_is_rejected()
    {
        TensorAssert.Throws<ArgumentException>(() => new MultiheadAttention(10, 3), "embed_dim (10)", "num_heads (3)");
    }

    [Fact]
    public void Bad_shapes_and_masks_are_rejected_naming_the_shapes()
    {
        var m = Mha(8, 2);
        var x = TestTensors.Randn(1, F64, 2, 5, 8);
        TensorAssert.Throws<ArgumentException>(() => m.Forward(x, x, x, attnMask: CausalMask(4)), "attn_mask [4, 4]", "[5, 5]", "[4, 5, 5]");
        TensorAssert.Throws<ArgumentException>(() => m.Forward(x, x, x, attnMask: Tensor.Zeros(new Shape(2, 5, 5), DType.Bool)), "attn_mask [2, 5, 5]");
        TensorAssert.Throws<ArgumentException>(() => m.Forward(x, x, x, keyPaddingMask: Tensor.Zeros(new Shape(2, 4), DType.Bool)), "key_padding_mask [2, 4]", "[2, 5]");
        TensorAssert.Throws<ArgumentException>(() => m.Forward(x, x, x, attnMask: Tensor.Zeros(new Shape(5, 5), DType.Int64)), "attn_mask must be Bool", "int64");
        var narrow = TestTensors.Randn(2, F64, 2, 5, 6);
        TensorAssert.Throws<ArgumentException>(() => m.Forward(narrow, narrow, narrow), "query [2, 5, 6]", "embed_dim 8");
        var shortValue = TestTensors.Randn(3, F64, 2, 4, 8);
        TensorAssert.Throws<ArgumentException>(() => m.Forward(x, x, shortValue), "key [2, 5, 8]", "value [2, 4, 8]");
        var otherBatch = TestTensors.Randn(4, F64, 3, 5, 8);
        TensorAssert.Throws<ArgumentException>(() => m.Forward(x, otherBatch, otherBatch), "query [2, 5, 8]", "key [3, 5, 8]", "batch");
        TensorAssert.Throws<ArgumentException>(() => m.Forward(x.Select(0, 0), x, x), "[5, 8]", "[2, 5, 8]");
    }
}
