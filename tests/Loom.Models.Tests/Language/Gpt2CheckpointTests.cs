using Loom.Nn.Serialization;

namespace Loom.Models.Tests.Language;

/// <summary>
/// Loom's GPT loaded from a GPT-2-shaped checkpoint that PyTorch wrote with Hugging Face's names and Conv1D layouts
/// (tests/golden/make_gpt2_golden.py) gives PyTorch's logits.
/// </summary>
public class Gpt2CheckpointTests
{
    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "golden", "gpt2", name);

    private static void AssertTorchLogits(Gpt gpt)
    {
        var expected = SafeTensors.Load(Golden("expected.safetensors")).Tensors;
        using var noGrad = new NoGrad();
        TensorAssert.Close(expected["logits"], gpt.Forward(expected["input_ids"]), 1e-4, 1e-4);
    }

    [Fact]
    public void Logits_equal_torchs()
    {
        var gpt = Gpt2Checkpoint.Load(Golden("model.safetensors"));
        Assert.Equal(new GptConfig(96, 32, 2, 4, 32, 0, GptPositions.Learned, true, true), gpt.Config);
        AssertTorchLogits(gpt);
    }

    [Fact]
    public void Names_under_transformer_and_a_tied_lm_head_load_too()
    {
        using var dir = new TempFolder();
        var tensors = SafeTensors.Load(Golden("model.safetensors")).Tensors.ToDictionary(kv => "transformer." + kv.Key, kv => kv.Value);
        tensors["lm_head.weight"] = tensors["transformer.wte.weight"];
        SafeTensors.Save(dir.File("model.safetensors"), tensors);
        AssertTorchLogits(Gpt2Checkpoint.Load(dir.File("model.safetensors"), heads: 4));
    }

    [Fact]
    public void Heads_come_from_config_json_else_from_the_argument()
    {
        using var dir = new TempFolder();
        File.Copy(Golden("model.safetensors"), dir.File("model.safetensors"));
        // Without config.json a width of 32 would mean one head of 64: wrong, and the logits would show it.
        Assert.Equal(1, Gpt2Checkpoint.Load(dir.File("model.safetensors")).Config.Heads);
        Assert.Equal(4, Gpt2Checkpoint.Load(dir.File("model.safetensors"), heads: 4).Config.Heads);
    }

    private static InvalidDataException Broken(Action<Dictionary<string, Tensor>> damage)
    {
        using var dir = new TempFolder();
        var tensors = SafeTensors.Load(Golden("model.safetensors")).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        damage(tensors);
        SafeTensors.Save(dir.File("model.safetensors"), tensors);
        var e = Assert.Throws<InvalidDataException>(() => Gpt2Checkpoint.Load(dir.File("model.safetensors"), heads: 4));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("model.safetensors", e.Message);
        return e;
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var e = Broken(t => t.Remove("h.1.mlp.c_fc.bias"));
        Assert.Contains("missing tensor h.1.mlp.c_fc.bias", e.Message);
    }

    [Fact]
    public void An_extra_tensor_is_named()
    {
        var e = Broken(t => t["h.0.attn.rotary"] = Tensor.Zeros(new Shape(3)));
        Assert.Contains("unexpected tensor h.0.attn.rotary", e.Message);
    }

    [Fact]
    public void A_mis_shaped_tensor_is_named_with_both_shapes()
    {
        // Stored as a Linear ([out, in]) instead of GPT-2's Conv1D ([in, out]).
        var e = Broken(t => t["h.0.mlp.c_fc.weight"] = t["h.0.mlp.c_fc.weight"].Transpose(0, 1).Contiguous());
        Assert.Contains("h.0.mlp.c_fc.weight is [128, 32]", e.Message);
        Assert.Contains("[32, 128] (Conv1D", e.Message);
    }

    [Fact]
    public void A_file_without_gpt2_tensors_is_refused()
    {
        var e = Broken(t => t.Remove("wte.weight"));
        Assert.Contains("missing tensor wte.weight", e.Message);
    }
}

public class Gpt2CheckpointSaveTests
{
    [Fact]
    public void A_saved_model_loads_back_with_the_same_logits_and_conv1d_layout()
    {
        using var dir = new TempFolder();
        Loom.Random.Generator.ManualSeed(11);
        var gpt = new Gpt(new GptConfig(Vocab: 50, Dim: 24, Layers: 2, Heads: 3, Context: 16));
        gpt.Eval();
        Gpt2Checkpoint.Save(gpt, dir.File("model.safetensors"));
        var stored = SafeTensors.Load(dir.File("model.safetensors")).Tensors;
        Assert.Equal(new Shape(24, 72), stored["h.0.attn.c_attn.weight"].Shape);
        Assert.DoesNotContain("lm_head.weight", stored.Keys);
        var loaded = Gpt2Checkpoint.Load(dir.File("model.safetensors"), heads: 3);
        var ids = Tensor.Randint(0, 50, new Shape(2, 10));
        using var noGrad = new NoGrad();
        TensorAssert.Close(gpt.Forward(ids), loaded.Forward(ids), 0, 0);
    }
}
