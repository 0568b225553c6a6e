using Loom.Compress;
using Loom.Nn;
using Loom.Nn.Serialization;

namespace Loom.Models.Tests.Language;

/// <summary>Cross-layer sharing and untied embeddings as options of the GPT and the text transformer, and head pruning of the GPT.</summary>
public class SharingAndHeadPruningTests
{
    private static readonly GptConfig Small = new(Vocab: 50, Dim: 32, Layers: 3, Heads: 4, Context: 24);

    private static long BlockParameters => new GptBlock(Small).ParameterCount();

    [Fact]
    public void A_shared_gpt_holds_one_block_and_round_trips_through_a_checkpoint()
    {
        Generator.ManualSeed(1);
        var shared = new Gpt(Small with { ShareLayers = true });
        Assert.Same(shared.H[0], shared.H[2]);
        Assert.Equal(new Gpt(Small).ParameterCount() - 2 * BlockParameters, shared.ParameterCount());
        var keys = shared.StateDict().Keys.Where(k => k.StartsWith("h.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.StartsWith("h.0.", k));

        using var temp = new TempFolder();
        SafeTensors.Save(temp.File("model.safetensors"), shared.StateDict());
        var loaded = new Gpt(Small with { ShareLayers = true });
        loaded.LoadStateDict(SafeTensors.Load(temp.File("model.safetensors")).Tensors);
        var ids = Tensor.Randint(0, 50, new Shape(2, 7), new Generator(2));
        TensorAssert.Close(shared.Forward(ids), loaded.Forward(ids), 0, 0);
    }

    [Fact]
    public void Untied_embeddings_add_an_output_layer_of_vocabulary_by_width()
    {
        Assert.Equal(new Gpt(Small).ParameterCount() + 50 * 32, new Gpt(Small with { TiedEmbeddings = false }).ParameterCount());
    }

    [Fact]
    public void A_shared_text_transformer_holds_one_encoder_layer()
    {
        Generator.ManualSeed(3);
        var separate = new TransformerClassifier(20, 3, dim: 16, layers: 3, heads: 4);
        var shared = new TransformerClassifier(20, 3, dim: 16, layers: 3, heads: 4, shareLayers: true);
        Assert.Equal(separate.ParameterCount() - 2 * separate.Encoder.Layers[0].ParameterCount(), shared.ParameterCount());
        Assert.DoesNotContain(shared.StateDict().Keys, k => k.StartsWith("encoder.layers.1", StringComparison.Ordinal));
    }

    [Fact]
    public void Removing_gpt_heads_that_write_nothing_leaves_the_logits_and_cached_decoding_unchanged()
    {
        Generator.ManualSeed(4);
        var gpt = new Gpt(Small);
        using (new NoGrad())
        {
            // Block 1, head 2 (columns 16–23 of c_proj, [32, 32]) writes nothing to the residual stream.
            var w = gpt.H[1].Attn.CProj.Weight.AsSpan<float>();
            for (int row = 0; row < 32; row++) w.Slice(row * 32 + 16, 8).Clear();
        }
        gpt.Eval();
        var ids = Tensor.Randint(0, 50, new Shape(2, 9), new Generator(5));
        var before = gpt.Forward(ids);

        var importance = HeadPruning.Importance(gpt, [ids]);
        Assert.Equal(0, importance["h.1.attn"][2]);
        var pruned = HeadPruning.Prune(gpt, 1.0 / 12, importance);
        Assert.Contains(new PrunedHeads("h.1.attn", 4, 3), pruned);
        Assert.Equal((3, 24), (gpt.H[1].Attn.NumHeads, gpt.H[1].Attn.InnerDim));
        Assert.Equal(new Shape(72, 32), gpt.H[1].Attn.CAttn.Weight.Shape);
        TensorAssert.Close(before, gpt.Forward(ids), 1e-5, 1e-5);

        // The cached (unfused) path through the narrower layer decodes as the whole-sequence forward does.
        var cache = new GptCache(Small.Layers);
        gpt.Forward(ids.Narrow(1, 0, 5), cache);
        TensorAssert.Close(before.Narrow(1, 5, 4), gpt.Forward(ids.Narrow(1, 5, 4), cache), 1e-4, 1e-4);

        var fresh = new Gpt(Small);
        HeadPruning.Resize(fresh, pruned.ToDictionary(p => p.Layer, p => p.After));
        fresh.LoadStateDict(gpt.StateDict());
        fresh.Eval();
        TensorAssert.Close(gpt.Forward(ids), fresh.Forward(ids), 0, 0);
    }
}
