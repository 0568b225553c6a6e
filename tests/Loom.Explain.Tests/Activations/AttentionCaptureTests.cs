using Loom.Models;

namespace Loom.Explain.Tests;

public sealed class AttentionCaptureTests
{
    [Fact]
    public void Captures_every_encoder_layer_of_a_text_transformer_with_padding_at_zero_and_leaves_nothing_attached()
    {
        Generator.ManualSeed(2);
        var model = new TransformerClassifier(vocab: 40, classes: 3, dim: 16, layers: 2, heads: 4, dropout: 0.1);
        model.Eval();
        // Row 0 is a whole text; row 1 is three words and two pads (id 0), which no query may attend to.
        var ids = Tensor.FromArray(new long[] { 5, 9, 13, 7, 22, 6, 8, 30, 0, 0 }, 2, 5);
        Tensor before;
        using (new NoGrad()) before = model.Forward(ids);

        var weights = AttentionCapture.Weights(model, ids);
        Assert.Equal(["encoder.layers.0.self_attn", "encoder.layers.1.self_attn"], weights.Select(w => w.Layer));
        foreach (var (layer, w) in weights)
        {
            Assert.Equal(new Shape(2, 4, 5, 5), w.Shape);
            var values = w.ToArray<float>();
            for (int row = 0; row < 2 * 4 * 5; row++)
            {
                Assert.Equal(1.0, values.Skip(row * 5).Take(5).Sum(v => (double)v), 5);
                if (row >= 4 * 5) Assert.True(values[row * 5 + 3] == 0 && values[row * 5 + 4] == 0, $"{layer} row {row}: a pad got weight");
            }
        }

        // The capture removed its hooks: a later forward gives the same logits and reaches no callback.
        int calls = 0;
        using (var capture = new AttentionCapture(model, (_, _) => calls++))
            Assert.Equal(2, capture.Layers.Count);
        Tensor after;
        using (new NoGrad()) after = model.Forward(ids);
        Assert.Equal(0, calls);
        TensorAssert.Close(before, after, atol: 0, rtol: 0);
    }

    [Fact]
    public void A_model_without_attention_is_refused_by_name()
    {
        var model = ModelZoo.SmallCnn((1, 8, 8), 10);
        TensorAssert.Throws<ArgumentException>(() => AttentionCapture.Weights(model, Tensor.Zeros(new Shape(1, 1, 8, 8))), "no attention layer");
    }
}
