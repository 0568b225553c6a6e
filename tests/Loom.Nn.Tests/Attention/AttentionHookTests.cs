namespace Loom.Nn.Tests.Attention;

/// <summary>IAttentionLayer on MultiheadAttention: the probabilities a hook sees, and that hooks change nothing else.</summary>
public class AttentionHookTests
{
    private const DType F64 = DType.Float64;
    private const int E = 8, Heads = 2, T = 5;

    private static MultiheadAttention Mha()
    {
        var m = new MultiheadAttention(E, Heads, batchFirst: true, dtype: F64, generator: new Generator(3));
        // Non-zero biases: a hook fed scores without the projection bias would differ from the reference.
        using (new NoGrad()) m.InProjBias!.CopyFrom(Tensor.Randn(m.InProjBias.Shape, new Generator(4), F64, std: 0.5));
        return m;
    }

    private static (Tensor Weights, int Calls, Tensor Output) Capture(MultiheadAttention m, Func<Tensor> forward)
    {
        Tensor? captured = null;
        int calls = 0;
        var handle = m.RegisterAttentionHook((layer, w) =>
        {
            Assert.Same(m, layer);
            captured = w.Clone();
            calls++;
        });
        var output = forward();
        handle.Remove();
        return (captured!, calls, output);
    }

    [Fact]
    public void Hook_receives_softmax_of_the_scaled_query_key_products_with_padded_keys_at_zero()
    {
        var m = Mha();
        var x = TestTensors.Randn(1, F64, 2, T, E);
        bool[][] padded = [[false, false, false, false, false], [false, false, false, true, true]];
        var pad = Tensor.FromRows(padded);
        var (weights, calls, _) = Capture(m, () => m.Forward(x, x, x, keyPaddingMask: pad, needWeights: false).Output);
        Assert.Equal(1, calls);
        Assert.Equal(new Shape(2, Heads, T, T), weights.Shape);
        var expected = AttentionReference.SelfAttention(x, m.InProjWeight!, m.InProjBias, Heads, (b, _, j) => padded[b][j]);
        TensorAssert.Close(expected, weights.ToArray<double>(), atol: 1e-12, rtol: 1e-10);
        var w = weights.ToArray<double>();
        for (int row = 0; row < 2 * Heads * T; row++)
        {
            Assert.Equal(1.0, w.Skip(row * T).Take(T).Sum(), 12);
            if (row >= Heads * T) Assert.True(w[row * T + 3] == 0 && w[row * T + 4] == 0, $"row {row}: padded keys got weight");
        }
    }

    [Fact]
    public void Causal_weights_are_exact_zeros_above_the_diagonal()
    {
        var m = Mha();
        var x = TestTensors.Randn(2, F64, 2, T, E);
        var (weights, _, _) = Capture(m, () => m.Forward(x, x, x, needWeights: false, isCausal: true).Output);
        var expected = AttentionReference.SelfAttention(x, m.InProjWeight!, m.InProjBias, Heads, (_, i, j) => j > i);
        TensorAssert.Close(expected, weights.ToArray<double>(), atol: 1e-12, rtol: 1e-10);
        var w = weights.ToArray<double>();
        for (int row = 0; row < 2 * Heads * T; row++)
            for (int j = 0; j < T; j++)
                if (j > row % T) Assert.Equal(0.0, w[row * T + j]);
                else Assert.True(w[row * T + j] > 0);
    }

    [Fact]
    public void Hooks_leave_the_output_unchanged_and_stop_when_removed()
    {
        var m = Mha();
        var x = TestTensors.Randn(3, F64, 2, T, E);
        var plain = m.Forward(x).ToArray<double>();
        var (_, calls, hooked) = Capture(m, () => m.Forward(x));
        Assert.Equal(1, calls);
        Assert.Equal(plain, hooked.ToArray<double>());
        // Capture removed its hook: a later forward reaches no hook (a leftover would throw here).
        var handle = m.RegisterAttentionHook((_, _) => throw new InvalidOperationException("removed hook called"));
        handle.Remove();
        handle.Remove();
        Assert.Equal(plain, m.Forward(x).ToArray<double>());
    }

    [Fact]
    public void Transformer_layer_that_asks_for_no_weights_still_hands_them_to_hooks()
    {
        var layer = new TransformerEncoderLayer(E, Heads, 16, dropout: 0, batchFirst: true, dtype: F64, generator: new Generator(5));
        layer.Eval();
        var x = TestTensors.Randn(4, F64, 2, T, E);
        var (weights, calls, _) = Capture(layer.SelfAttn, () => layer.Forward(x));
        Assert.Equal(1, calls);
        // Post-norm: the self-attention reads the layer's input itself, so need_weights on it gives the same probabilities.
        var (_, direct) = layer.SelfAttn.Forward(x, x, x, needWeights: true, averageAttnWeights: false);
        Assert.Equal(direct!.ToArray<double>(), weights.ToArray<double>());
    }
}
