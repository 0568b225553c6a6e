namespace Loom.Compress.Tests.Pruning;

public class HeadPruningTests
{
    private static TransformerEncoder Encoder(int seed) =>
        new(i => new TransformerEncoderLayer(8, 4, 16, dropout: 0, batchFirst: true, normFirst: true, dtype: DType.Float64, generator: new Generator((ulong)(seed + i))), 2);

    /// <summary>Zeroes the out_proj columns of <paramref name="head"/> (2 wide) in layer <paramref name="layer"/>.</summary>
    private static void Silence(TransformerEncoder encoder, int layer, int head)
    {
        using var noGrad = new NoGrad();
        var w = encoder.Layers[layer].SelfAttn.OutProj.Weight.AsSpan<double>();
        for (int row = 0; row < 8; row++) { w[row * 8 + 2 * head] = 0; w[row * 8 + 2 * head + 1] = 0; }
    }

    private static Tensor[] Batches() => [TestTensors.Randn(20, DType.Float64, 3, 5, 8), TestTensors.Randn(21, DType.Float64, 2, 7, 8)];

    [Fact]
    public void Heads_that_write_nothing_score_zero_and_go_first_leaving_the_outputs_unchanged()
    {
        var encoder = Encoder(1);
        Silence(encoder, 0, 2);
        Silence(encoder, 1, 0);
        encoder.Eval();
        var x = TestTensors.Randn(22, DType.Float64, 2, 6, 8);
        Tensor before;
        using (new NoGrad()) before = encoder.Forward(x);
        long parameters = encoder.ParameterCount();

        var importance = HeadPruning.Importance(encoder, Batches());
        Assert.Equal(["layers.0.self_attn", "layers.1.self_attn"], importance.Keys.Order());
        Assert.Equal(0, importance["layers.0.self_attn"][2]);
        Assert.Equal(0, importance["layers.1.self_attn"][0]);
        Assert.All(importance.Values.SelectMany(v => v).Where(v => v != 0), v => Assert.True(v > 1e-3));

        var pruned = HeadPruning.Prune(encoder, 0.25, importance); // 2 of 8 heads
        Assert.Equal([new PrunedHeads("layers.0.self_attn", 4, 3), new PrunedHeads("layers.1.self_attn", 4, 3)], pruned.ToArray());
        Assert.Equal(3, encoder.Layers[0].SelfAttn.NumHeads);
        // Per removed head: 2 rows of q, k, v weights (8 wide) and biases, 2 columns of out_proj.
        Assert.Equal(parameters - 2 * (2 * 3 * 8 + 2 * 3 + 2 * 8), encoder.ParameterCount());
        using (new NoGrad()) TensorAssert.Close(before, encoder.Forward(x), 1e-12, 1e-12);
    }

    /// <summary>A decoder as a one-input model (what <see cref="HeadPruning.Importance"/> runs): causal self-attention, cross-attention to the same sequence.</summary>
    private sealed class Decoder : Module<Tensor, Tensor>
    {
        public Decoder(int seed) => Stack = RegisterModule("decoder", new TransformerDecoder(
            i => new TransformerDecoderLayer(8, 4, 16, dropout: 0, batchFirst: true, normFirst: true, dtype: DType.Float64, generator: new Generator((ulong)(seed + i))), 2));

        public TransformerDecoder Stack { get; }

        protected override Tensor ForwardCore(Tensor input) => Stack.Forward(input, input.Mul(0.5), tgtIsCausal: true);
    }

    [Fact]
    public void Decoder_self_and_cross_attention_heads_that_write_nothing_go_leaving_the_outputs_unchanged()
    {
        var model = new Decoder(6);
        using (new NoGrad())
        {
            // Head 1 of layer 0's self-attention and head 3 of layer 1's cross-attention write nothing.
            var self = model.Stack.Layers[0].SelfAttn.OutProj.Weight.AsSpan<double>();
            var cross = model.Stack.Layers[1].MultiheadAttn.OutProj.Weight.AsSpan<double>();
            for (int row = 0; row < 8; row++) (self[row * 8 + 2], self[row * 8 + 3], cross[row * 8 + 6], cross[row * 8 + 7]) = (0, 0, 0, 0);
        }
        model.Eval();
        var x = TestTensors.Randn(23, DType.Float64, 2, 6, 8);
        Tensor before;
        using (new NoGrad()) before = model.Forward(x);

        var importance = HeadPruning.Importance(model, Batches());
        Assert.Equal(["decoder.layers.0.multihead_attn", "decoder.layers.0.self_attn", "decoder.layers.1.multihead_attn", "decoder.layers.1.self_attn"],
            importance.Keys.Order());
        Assert.Equal(0, importance["decoder.layers.0.self_attn"][1]);
        Assert.Equal(0, importance["decoder.layers.1.multihead_attn"][3]);
        HeadPruning.Prune(model, 2.0 / 16, importance);
        Assert.Equal(3, model.Stack.Layers[0].SelfAttn.NumHeads);
        Assert.Equal(3, model.Stack.Layers[1].MultiheadAttn.NumHeads);
        Assert.Equal(4, model.Stack.Layers[1].SelfAttn.NumHeads);
        using (new NoGrad()) TensorAssert.Close(before, model.Forward(x), 1e-12, 1e-12);
    }

    [Fact]
    public void The_lowest_heads_go_across_layers_and_every_layer_keeps_one()
    {
        var encoder = Encoder(2);
        var importance = new Dictionary<string, double[]>
        {
            ["layers.0.self_attn"] = [0.1, 0.2, 0.3, 0.4],
            ["layers.1.self_attn"] = [5, 6, 7, 8],
        };
        var pruned = HeadPruning.Prune(encoder, 0.5, importance);
        // The four lowest are layer 0's, but one of them stays: the fourth cut is layer 1's lowest.
        Assert.Equal([new PrunedHeads("layers.0.self_attn", 4, 1), new PrunedHeads("layers.1.self_attn", 4, 3)], pruned.ToArray());
    }

    [Fact]
    public void A_pruned_checkpoint_loads_into_a_model_resized_from_the_head_counts()
    {
        var encoder = Encoder(3);
        HeadPruning.Prune(encoder, 0.5, HeadPruning.Importance(encoder, Batches()));
        var counts = encoder.Layers.Select((l, i) => ($"layers.{i}.self_attn", l.SelfAttn.NumHeads)).ToDictionary();

        var fresh = Encoder(4);
        HeadPruning.Resize(fresh, counts);
        fresh.LoadStateDict(encoder.StateDict());
        encoder.Eval();
        fresh.Eval();
        var x = TestTensors.Randn(23, DType.Float64, 2, 6, 8);
        using (new NoGrad()) TensorAssert.Close(encoder.Forward(x), fresh.Forward(x), 0, 0);
        TensorAssert.Throws<InvalidDataException>(() => HeadPruning.Resize(Encoder(5), new Dictionary<string, int> { ["layers.0.self_attn"] = 5 }), "5 heads", "has 4");
        TensorAssert.Throws<InvalidDataException>(() => HeadPruning.Resize(Encoder(5), new Dictionary<string, int> { ["layers.0.linear1"] = 1 }), "layers.0.linear1");
    }
}
