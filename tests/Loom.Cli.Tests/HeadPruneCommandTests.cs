namespace Loom.Cli.Tests;

/// <summary>
/// `loom prune RUN --heads F` on a gpt-tiny run: narrower attention layers that eval rebuilds from config.json; and
/// `loom quantize` of the same run, whose attention and MLP projections (held in typed fields) become int8.
/// </summary>
public sealed class HeadPruneCommandTests(TextRunFixture run) : IClassFixture<TextRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Pruning_half_the_heads_writes_narrower_attention_that_eval_rebuilds()
    {
        var target = _temp.File("h");
        var result = CliRunner.Succeed("prune", run.Folder, "--heads", "0.5", "--calibrate", "64", "--out", target, "--threads", "1");
        Assert.Contains("attention-head pruning", result.Output);
        var heads = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "config.json")))!["pruned_heads"]!.AsObject();
        Assert.Equal(["h.0.attn", "h.1.attn"], heads.Select(h => h.Key).Order());
        Assert.Equal(4, heads.Sum(h => (int)h.Value!)); // gpt-tiny's 2 × 4 heads, half removed
        var tensors = SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors;
        // Heads of 16 (width 64 / 4 heads): c_attn keeps 3 × 16 rows per head, c_proj 16 columns.
        Assert.Equal(new Shape(3 * 16 * (int)heads["h.0.attn"]!, 64), tensors["h.0.attn.c_attn.weight"].Shape);
        Assert.Equal(new Shape(64, 16 * (int)heads["h.1.attn"]!), tensors["h.1.attn.c_proj.weight"].Shape);
        Assert.Contains("perplexity", CliRunner.Succeed("eval", target, "--threads", "1").Output);
    }

    [Fact]
    public void Dynamic_int8_quantises_the_attention_and_mlp_projections_in_place_and_eval_takes_it()
    {
        var target = _temp.File("q");
        var result = CliRunner.Succeed("quantize", run.Folder, "--out", target, "--threads", "1");
        Assert.Contains("perplexity", result.Output);
        Assert.Contains("left in float32: wte.weight, wpe.weight", result.Output); // the embeddings
        var tensors = SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors;
        foreach (var name in new[] { "h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight", "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.weight" })
        {
            Assert.Equal(DType.Int8, tensors[name].DType);
            Assert.Equal(new Shape(tensors[name].Shape[0]), tensors[name + "_scale"].Shape);
        }
        Assert.Equal(DType.Float32, tensors["h.0.attn.c_attn.bias"].DType);
        Assert.Contains("perplexity", CliRunner.Succeed("eval", target, "--threads", "1").Output);
    }

    [Fact]
    public void Heads_and_sparsity_together_or_out_of_range_are_refused()
    {
        CliRunner.Fail(["prune", run.Folder, "--heads", "0.5", "--sparsity", "0.5"], "give one of --sparsity");
        CliRunner.Fail(["prune", run.Folder, "--heads", "1"], "--heads must be in (0, 1), got 1");
        CliRunner.Fail(["prune", run.Folder, "--heads", "0.5", "--structured"], "--structured");
    }
}
