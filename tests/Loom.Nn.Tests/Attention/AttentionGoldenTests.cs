using static Loom.Nn.Attention;

namespace Loom.Nn.Tests.Attention;

/// <summary>MultiheadAttention and the transformer layers and stacks against PyTorch (tests/golden/make_golden.py).</summary>
public class AttentionGoldenTests
{
    private static readonly Tensor Padding = Tensor.FromRows([new[] { false, false, false, true, true }, [false, false, false, false, false]]);

    [Fact]
    public void Causal_self_attention_matches_pytorch_with_averaged_weights()
    {
        var m = new MultiheadAttention(8, 2, batchFirst: true);
        new LayerGolden("mha_causal").Check(m, x =>
        {
            var (output, weights) = m.Forward(x[0], x[0], x[0], attnMask: CausalMask(5));
            return [output, weights!];
        });
    }

    [Fact]
    public void Cross_attention_with_key_padding_matches_pytorch()
    {
        var m = new MultiheadAttention(8, 4, batchFirst: true);
        new LayerGolden("mha_padded").Check(m, x =>
        {
            var (output, weights) = m.Forward(x[0], x[1], x[1], keyPaddingMask: Padding);
            return [output, weights!];
        });
    }

    [Fact]
    public void Separate_key_and_value_sizes_use_separate_projections_and_match_pytorch_sequence_first()
    {
        var m = new MultiheadAttention(8, 2, kdim: 6, vdim: 5);
        Assert.Null(m.InProjWeight);
        new LayerGolden("mha_kdim_vdim").Check(m, x =>
        {
            var (output, weights) = m.Forward(x[0], x[1], x[2], keyPaddingMask: Padding, averageAttnWeights: false);
            return [output, weights!];
        });
    }

    [Fact]
    public void Float_attention_mask_is_added_to_the_scores_and_receives_its_gradient()
    {
        var m = new MultiheadAttention(8, 4, bias: false, batchFirst: true);
        new LayerGolden("mha_float_mask_nobias").Check(m, x =>
        {
            var (output, weights) = m.Forward(x[0], x[0], x[0], attnMask: x[1]);
            return [output, weights!];
        });
    }

    [Fact]
    public void Per_head_bool_mask_matches_pytorch_with_per_head_weights()
    {
        var m = new MultiheadAttention(8, 2, batchFirst: true);
        new LayerGolden("mha_per_head_mask").Check(m, x =>
        {
            var (output, weights) = m.Forward(x[0], x[0], x[0], attnMask: x[1], averageAttnWeights: false);
            return [output, weights!];
        });
    }

    [Theory]
    [InlineData("transformer_encoder_post", false, "relu")]
    [InlineData("transformer_encoder_pre_gelu", true, "gelu")]
    public void Encoder_layer_matches_pytorch(string name, bool normFirst, string activation)
    {
        var layer = new TransformerEncoderLayer(8, 2, 16, dropout: 0, activation: activation, batchFirst: true, normFirst: normFirst);
        new LayerGolden(name).Check(layer, x => [layer.Forward(x[0])]);
    }

    [Fact]
    public void Decoder_layer_matches_pytorch_with_a_causal_target_mask()
    {
        var layer = new TransformerDecoderLayer(8, 2, 16, dropout: 0, batchFirst: true);
        new LayerGolden("transformer_decoder_post").Check(layer, x => [layer.Forward(x[0], x[1], tgtMask: CausalMask(4))]);
    }

    [Fact]
    public void Encoder_stack_with_final_norm_and_key_padding_matches_pytorch()
    {
        var encoder = new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16, dropout: 0), 2, new LayerNorm(8));
        new LayerGolden("transformer_encoder_stack").Check(encoder, x => [encoder.Forward(x[0], srcKeyPaddingMask: Padding)]);
    }

    [Fact]
    public void Pre_norm_decoder_stack_matches_pytorch_with_causal_target_and_memory_padding()
    {
        var decoder = new TransformerDecoder(new TransformerDecoderLayer(8, 2, 16, dropout: 0, activation: "gelu", normFirst: true), 2, new LayerNorm(8));
        new LayerGolden("transformer_decoder_stack_pre_gelu").Check(decoder, x =>
            [decoder.Forward(x[0], x[1], tgtMask: CausalMask(4), memoryKeyPaddingMask: Padding)]);
    }

    [Fact]
    public void Is_causal_without_a_mask_equals_the_explicit_causal_mask()
    {
        var m = new MultiheadAttention(8, 2, batchFirst: true);
        new LayerGolden("mha_causal").Check(m, x =>
        {
            var (output, weights) = m.Forward(x[0], x[0], x[0], isCausal: true);
            return [output, weights!];
        });
    }
}
