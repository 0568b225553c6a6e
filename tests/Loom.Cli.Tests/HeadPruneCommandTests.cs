using System.Text.Json.Nodes;
using Loom.Nn.Serialization;

namespace Loom.Cli.Tests;

/// <summary>`loom prune RUN --heads F` on a gpt-tiny run: narrower attention layers that eval rebuilds from config.json.</summary>
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
    public void Heads_and_sparsity_together_or_out_of_range_are_refused()
    {
        CliRunner.Fail(["prune", run.Folder, "--heads", "0.5", "--sparsity", "0.5"], "give one of --sparsity");
        CliRunner.Fail(["prune", run.Folder, "--heads", "1"], "--heads must be in (0, 1), got 1");
        CliRunner.Fail(["prune", run.Folder, "--heads", "0.5", "--structured"], "--structured");
    }
}
