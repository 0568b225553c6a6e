namespace Loom.Nn.Tests.Attention;

/// <summary>Attention with fewer heads than the model width (head_dim), slicing heads out, and cross-layer sharing.</summary>
public class AttentionHeadTests
{
    private static MultiheadAttention Layer(int seed, int? kdim = null)
    {
        var layer = new MultiheadAttention(8, 4, batchFirst: true, kdim: kdim, vdim: kdim, dtype: DType.Float64, generator: new Generator((ulong)seed));
        using (new NoGrad())
        {
            // Non-zero biases, so slicing them is checked too.
            if (layer.InProjBias is not null) layer.InProjBias.CopyFrom(TestTensors.Randn(seed + 1, DType.Float64, 24));
            layer.OutProj.Bias!.CopyFrom(TestTensors.Randn(seed + 2, DType.Float64, 8));
        }
        return layer;
    }

    [Theory]
    [InlineData(null)]
    [InlineData(6)]
    public void Removing_heads_whose_output_columns_are_zero_leaves_the_output_unchanged(int? kdim)
    {
        var layer = Layer(1, kdim);
        using (new NoGrad())
        {
            var w = layer.OutProj.Weight.AsSpan<double>(); // [8, 8]: head h is columns 2h, 2h + 1
            for (int row = 0; row < 8; row++) foreach (int column in new[] { 2, 3, 6, 7 }) w[row * 8 + column] = 0; // heads 1 and 3
        }
        var q = TestTensors.Randn(3, DType.Float64, 2, 5, 8);
        var kv = TestTensors.Randn(4, DType.Float64, 2, 6, kdim ?? 8);
        var before = layer.Forward(q, kv, kv, needWeights: false).Output;

        var pruned = layer.KeepHeads([0, 2]);
        Assert.Equal((2, 2, 4), (pruned.NumHeads, pruned.HeadDim, pruned.InnerDim));
        Assert.Equal(new Shape(8, 4), pruned.OutProj.Weight.Shape);
        // Each removed head takes its 2 rows of q, k and v (with biases) and its 2 columns of out_proj.
        int kvWidth = kdim ?? 8;
        long removed = 2 * 2 * (8 + kvWidth + kvWidth) + 2 * 2 * 3 + 2 * 2 * 8;
        Assert.Equal(layer.ParameterCount() - removed, pruned.ParameterCount());
        TensorAssert.Close(before, pruned.Forward(q, kv, kv, needWeights: false).Output, 1e-12, 1e-12);
    }

    [Fact]
    public void Keeping_every_head_in_another_order_computes_the_same_layer()
    {
        var layer = Layer(5);
        var x = TestTensors.Randn(6, DType.Float64, 2, 4, 8);
        TensorAssert.Close(layer.Forward(x), layer.KeepHeads([3, 1, 0, 2]).Forward(x), 1e-12, 1e-12);
    }

    [Fact]
    public void Gradients_through_a_layer_narrower_than_the_model_match_finite_differences()
    {
        // 3 heads of 2 on an 8-wide model: inner width 6, which no even split of 8 gives.
        var layer = new MultiheadAttention(8, 3, batchFirst: true, dtype: DType.Float64, generator: new Generator(7), headDim: 2);
        Assert.Equal(new Shape(18, 8), layer.InProjWeight!.Shape);
        Assert.Equal(new Shape(8, 6), layer.OutProj.Weight.Shape);
        TensorAssert.GradientsMatch(t => layer.Forward(t[0]), TestTensors.Param(8, 2, 3, 8));
    }

    [Fact]
    public void Bad_head_lists_are_refused_naming_the_heads()
    {
        var layer = Layer(9);
        TensorAssert.Throws<ArgumentException>(() => layer.KeepHeads([]), "at least one");
        TensorAssert.Throws<ArgumentException>(() => layer.KeepHeads([0, 4]), "below 4", "[0, 4]");
        TensorAssert.Throws<ArgumentException>(() => layer.KeepHeads([1, 1]), "distinct");
    }

    [Fact]
    public void An_encoder_layer_takes_a_smaller_attention_in_place_of_its_own()
    {
        var layer = new TransformerEncoderLayer(8, 4, 16, dropout: 0, batchFirst: true, dtype: DType.Float64, generator: new Generator(10));
        var smaller = layer.SelfAttn.KeepHeads([0, 1, 2, 3]);
        layer.SetSubmodule("self_attn", smaller);
        Assert.Same(smaller, layer.SelfAttn);
        Assert.Same(smaller, layer.GetSubmodule("self_attn"));
        TensorAssert.Throws<NotSupportedException>(() => layer.SetSubmodule("self_attn", new MultiheadAttention(8, 2, dtype: DType.Float64)), "batch_first=True", "batch_first=False");
    }

    [Fact]
    public void A_shared_layer_is_one_set_of_parameters_whose_gradient_sums_every_use()
    {
        var shared = new TransformerEncoderLayer(8, 2, 16, dropout: 0, batchFirst: true, dtype: DType.Float64, generator: new Generator(11));
        var encoder = new TransformerEncoder(_ => shared, 3);
        Assert.Equal(shared.ParameterCount(), encoder.ParameterCount());
        Assert.All(encoder.StateDict().Keys, k => Assert.StartsWith("layers.0.", k));
        Assert.Equal(shared.StateDict().Count, encoder.StateDict().Count);

        // The same three layers as separate copies: the shared gradient is the sum of theirs.
        var copies = new TransformerEncoder(_ =>
        {
            var copy = new TransformerEncoderLayer(8, 2, 16, dropout: 0, batchFirst: true, dtype: DType.Float64);
            copy.LoadStateDict(shared.StateDict());
            return copy;
        }, 3);
        var x = TestTensors.Randn(12, DType.Float64, 2, 4, 8);
        encoder.Forward(x).Pow(2).Sum().Backward();
        copies.Forward(x).Pow(2).Sum().Backward();
        var weight = shared.Linear1.Weight;
        var sum = copies.Layers[0].Linear1.Weight.Grad!.Add(copies.Layers[1].Linear1.Weight.Grad!).Add(copies.Layers[2].Linear1.Weight.Grad!);
        TensorAssert.Close(sum, weight.Grad!, 1e-10, 1e-10);

        // And against finite differences of the loss in a few of the shared weights.
        var grad = weight.Grad!.ToArray<double>();
        var saved = weight.ToArray<double>();
        foreach (int i in new[] { 0, 37, 101 })
        {
            double plus = LossWith(i, saved[i] + 1e-6), minus = LossWith(i, saved[i] - 1e-6);
            LossWith(i, saved[i]);
            Assert.Equal((plus - minus) / 2e-6, grad[i], 1e-5 * Math.Max(1, Math.Abs(grad[i])));
        }

        double LossWith(int index, double value)
        {
            using (new NoGrad())
            {
                weight.AsSpan<double>()[index] = value;
                return encoder.Forward(x).Pow(2).Sum().Item<double>();
            }
        }
    }
}
