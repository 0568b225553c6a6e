using static Loom.Nn.Attention;

namespace Loom.Nn.Tests.Attention;

public class TransformerTests
{
    private const DType F64 = DType.Float64;

    /// <summary>Moves every parameter off its initial value (zero biases, unit norm weights hide mistakes).</summary>
    private static T Jitter<T>(T module, ulong seed = 17) where T : Module
    {
        var g = new Generator(seed);
        using (new NoGrad())
            foreach (var p in module.Parameters())
                p.AddInPlace(Tensor.Randn(p.Shape, g, p.DType, std: 0.2));
        return module;
    }

    [Fact]
    public void Encoder_layer_children_carry_pytorch_names_in_order()
    {
        var layer = new TransformerEncoderLayer(8, 2, 16);
        Assert.Equal(new[] { "self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2" }, layer.NamedChildren().Select(c => c.Name));
        var decoder = new TransformerDecoderLayer(8, 2, 16);
        Assert.Equal(new[] { "self_attn", "multihead_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "norm3", "dropout1", "dropout2", "dropout3" },
            decoder.NamedChildren().Select(c => c.Name));
    }

    [Fact]
    public void Stacks_copy_the_prototype_into_independent_layers_with_pytorch_names()
    {
        var prototype = new TransformerEncoderLayer(8, 2, 16);
        var encoder = new TransformerEncoder(prototype, 3, new LayerNorm(8));
        Assert.Equal(3, encoder.Layers.Count);
        Assert.Contains("layers.2.self_attn.in_proj_weight", encoder.StateDict().Keys);
        Assert.Contains("layers.0.linear2.bias", encoder.StateDict().Keys);
        Assert.Contains("norm.weight", encoder.StateDict().Keys);
        Assert.DoesNotContain(prototype.Linear1.Weight, encoder.Parameters());
        // Same starting values, distinct tensors: training one layer leaves the others alone.
        Assert.True(encoder.Layers[0].Linear1.Weight.Equal(encoder.Layers[2].Linear1.Weight));
        Assert.True(encoder.Layers[0].Linear1.Weight.Equal(prototype.Linear1.Weight));
        Assert.NotSame(encoder.Layers[0].Linear1.Weight, encoder.Layers[1].Linear1.Weight);
        Assert.Equal(3 * prototype.ParameterCount() + 16, encoder.ParameterCount());

        var fresh = new TransformerDecoder(i => new TransformerDecoderLayer(8, 2, 16, generator: new Generator((ulong)i)), 2);
        Assert.False(fresh.Layers[0].Linear1.Weight.Equal(fresh.Layers[1].Linear1.Weight));
        Assert.DoesNotContain(fresh.StateDict().Keys, k => k.StartsWith("norm", StringComparison.Ordinal));
    }

    [Fact]
    public void Copies_keep_the_mode_and_frozen_parameters_of_the_prototype()
    {
        var prototype = new TransformerEncoderLayer(8, 2, 16);
        prototype.Eval();
        prototype.Norm1.RequiresGrad_(false);
        var encoder = new TransformerEncoder(prototype, 2);
        Assert.All(encoder.Layers, l => Assert.False(l.Training));
        Assert.All(encoder.Layers, l => Assert.False(l.Norm1.Weight!.RequiresGrad));
        Assert.All(encoder.Layers, l => Assert.True(l.Linear1.Weight.RequiresGrad));
    }

    [Fact]
    public void Encoder_stack_equals_its_layers_applied_in_turn()
    {
        var norm = new LayerNorm(8, dtype: F64);
        var encoder = Jitter(new TransformerEncoder(i => new TransformerEncoderLayer(8, 2, 16, dropout: 0, batchFirst: true, dtype: F64), 2, norm));
        var x = TestTensors.Randn(1, F64, 2, 5, 8);
        var pad = Tensor.FromRows([new[] { false, false, false, false, true }, [false, false, false, false, false]]);
        var expected = norm.Forward(encoder.Layers[1].Forward(encoder.Layers[0].Forward(x, srcKeyPaddingMask: pad), srcKeyPaddingMask: pad));
        TensorAssert.Close(expected, encoder.Forward(x, srcKeyPaddingMask: pad), 0, 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Padding_positions_do_not_influence_the_other_positions(bool normFirst)
    {
        var encoder = Jitter(new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16, dropout: 0, normFirst: normFirst, dtype: F64), 2));
        var x = TestTensors.Randn(1, F64, 5, 2, 8);
        var pad = Tensor.FromRows([new[] { false, false, false, true, true }, [false, false, false, false, false]]);
        var changed = x.Clone();
        using (new NoGrad()) changed.Narrow(0, 3, 2).Select(1, 0).CopyFrom(TestTensors.Randn(2, F64, 2, 8));
        var before = encoder.Forward(x, srcKeyPaddingMask: pad);
        var after = encoder.Forward(changed, srcKeyPaddingMask: pad);
        TensorAssert.Close(before.Narrow(0, 0, 3), after.Narrow(0, 0, 3), 1e-12, 0);
        Assert.False(encoder.Forward(x).Narrow(0, 0, 3).AllClose(encoder.Forward(changed).Narrow(0, 0, 3)));
    }

    [Fact]
    public void Causal_encoder_outputs_ignore_later_positions_and_is_causal_equals_the_explicit_mask()
    {
        var encoder = Jitter(new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16, dropout: 0, batchFirst: true, dtype: F64), 2));
        var x = TestTensors.Randn(1, F64, 1, 6, 8);
        var changed = x.Clone();
        using (new NoGrad()) changed.Narrow(1, 5, 1).CopyFrom(TestTensors.Randn(2, F64, 1, 1, 8));
        var hinted = encoder.Forward(x, isCausal: true);
        TensorAssert.Close(encoder.Forward(x, mask: CausalMask(6)), hinted, 0, 0);
        TensorAssert.Close(hinted.Narrow(1, 0, 5), encoder.Forward(changed, isCausal: true).Narrow(1, 0, 5), 1e-12, 0);
    }

    [Fact]
    public void Dropout_acts_in_training_mode_only()
    {
        var layer = new TransformerEncoderLayer(8, 2, 16, dropout: 0.3, dtype: F64, generator: new Generator(1));
        var x = TestTensors.Randn(1, F64, 4, 2, 8);
        Assert.False(layer.Forward(x).AllClose(layer.Forward(x)));
        layer.Eval();
        TensorAssert.Close(layer.Forward(x), layer.Forward(x), 0, 0);
    }

    [Fact]
    public void Encoder_layer_gradients_match_finite_differences()
    {
        var layer = Jitter(new TransformerEncoderLayer(4, 2, 6, dropout: 0, batchFirst: true, dtype: F64, generator: new Generator(2)));
        var x = TestTensors.Param(1, 2, 3, 4);
        var pad = Tensor.FromRows([new[] { false, false, true }, [false, false, false]]);
        TensorAssert.GradientsMatch(t => layer.Forward(t[0], srcKeyPaddingMask: pad), [x, .. layer.Parameters()]);
    }

    [Fact]
    public void Pre_norm_gelu_decoder_layer_gradients_match_finite_differences()
    {
        var layer = Jitter(new TransformerDecoderLayer(4, 2, 6, dropout: 0, activation: "gelu", normFirst: true, dtype: F64, generator: new Generator(3)));
        var tgt = TestTensors.Param(1, 3, 1, 4);
        var memory = TestTensors.Param(2, 2, 1, 4);
        TensorAssert.GradientsMatch(t => layer.Forward(t[0], t[1], tgtIsCausal: true), [tgt, memory, .. layer.Parameters()]);
    }

    [Fact]
    public void Layer_forward_runs_hooks_for_activation_capture()
    {
        var encoder = new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16, dropout: 0), 2);
        var decoder = new TransformerDecoder(new TransformerDecoderLayer(8, 2, 16, dropout: 0), 1);
        var captured = new List<string>();
        foreach (var (name, module) in encoder.NamedModules().Concat(decoder.NamedModules()))
            module.RegisterForwardHook((Module _, object _, object output) => captured.Add($"{name} {((Tensor)output).Shape}"));
        var x = Tensor.Randn(3, 2, 8);
        var memory = encoder.Forward(x, srcKeyPaddingMask: Tensor.Zeros(new Shape(2, 3), DType.Bool));
        decoder.Forward(x.Narrow(0, 0, 2), memory, tgtIsCausal: true);
        Assert.Contains("layers.1 [3, 2, 8]", captured);
        Assert.Contains("layers.0.self_attn [3, 2, 8]", captured);
        Assert.Contains("layers.0.self_attn.out_proj [3, 2, 8]", captured);
        Assert.Contains("layers.0.multihead_attn [2, 2, 8]", captured);
        Assert.Contains("layers.0.linear1 [2, 2, 16]", captured);
        Assert.Equal(2, captured.Count(c => c.StartsWith(" [", StringComparison.Ordinal))); // both stacks themselves
    }

    [Fact]
    public void Multi_argument_forwards_run_the_input_a_pre_hook_returns()
    {
        var encoder = new TransformerEncoder(_ => new TransformerEncoderLayer(8, 2, 16, dropout: 0, normFirst: true, dtype: F64, generator: new Generator(1)), 1);
        var decoder = new TransformerDecoder(_ => new TransformerDecoderLayer(8, 2, 16, dropout: 0, dtype: F64, generator: new Generator(2)), 1);
        var x = TestTensors.Randn(1, F64, 3, 2, 8);
        var doubled = x.Mul(2);
        var memory = TestTensors.Randn(2, F64, 4, 2, 8);
        foreach (Module m in new Module[] { encoder, encoder.Layers[0], decoder, decoder.Layers[0] })
        {
            var seen = new List<object>();
            var pre = m.RegisterForwardPreHook((_, input) => ReferenceEquals(input, x) ? doubled : null);
            var post = m.RegisterForwardHook((Module _, object input, object output) => { seen.Add(input); seen.Add(output); });
            Func<Tensor, Tensor> run = m switch
            {
                TransformerEncoder e => t => e.Forward(t, isCausal: true),
                TransformerEncoderLayer l => t => l.Forward(t, isCausal: true),
                TransformerDecoder d => t => d.Forward(t, memory, tgtIsCausal: true),
                _ => t => ((TransformerDecoderLayer)m).Forward(t, memory, tgtIsCausal: true),
            };
            var output = run(x);
            Assert.Same(doubled, seen[0]);
            Assert.Same(output, seen[1]);
            pre.Remove();
            post.Remove();
            TensorAssert.Close(run(doubled), output, 1e-12, 0);
        }
    }

    [Fact]
    public void Bad_configurations_are_rejected()
    {
        TensorAssert.Throws<ArgumentException>(() => new TransformerEncoderLayer(8, 2, activation: "tanh"), "TransformerEncoderLayer", "\"tanh\"");
        TensorAssert.Throws<ArgumentException>(() => new TransformerDecoderLayer(8, 3), "embed_dim (8)", "num_heads (3)");
        TensorAssert.Throws<ArgumentException>(() => new TransformerEncoder(new TransformerEncoderLayer(8, 2), 0), "num_layers", "0");
        var layer = new TransformerEncoderLayer(8, 2, 16);
        TensorAssert.Throws<ArgumentException>(() => layer.Forward(Tensor.Randn(4, 2, 6)), "[4, 2, 6]", "embed_dim 8");
        TensorAssert.Throws<ArgumentException>(() => layer.Forward(Tensor.Randn(4, 2, 8), srcMask: CausalMask(3)), "attn_mask [3, 3]", "[4, 4]");
    }
}
