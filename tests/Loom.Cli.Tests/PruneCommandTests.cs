namespace Loom.Cli.Tests;

/// <summary>`loom prune RUN`: unstructured, structured and fine-tuned runs that eval takes, with the sparsity asked for.</summary>
public sealed class PruneCommandTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static double Zeros(string folder, params string[] names)
    {
        var tensors = SafeTensors.Load(Path.Combine(folder, "model.safetensors")).Tensors;
        var values = names.SelectMany(n => tensors[n].ToArray<float>()).ToArray();
        return values.Count(v => v == 0) / (double)values.Length;
    }

    [Fact]
    public void Unstructured_pruning_writes_a_run_with_that_sparsity_that_eval_takes()
    {
        var target = _temp.File("p");
        var result = CliRunner.Succeed("prune", run.Folder, "--sparsity", "0.7", "--out", target, "--threads", "1");
        Assert.Contains("non-zero weights", result.Output);
        Assert.Equal(0.7, Zeros(target, "1.weight", "4.weight", "6.weight"), 2);
        Assert.Contains("## Sparsity per layer", File.ReadAllText(Path.Combine(target, "report.md")));
        CliRunner.Succeed("eval", target, "--threads", "1");
        CliRunner.Fail(["prune", run.Folder, "--sparsity", "1.5"], "--sparsity must be in (0, 1), got 1.5");
    }

    [Fact]
    public void Structured_pruning_writes_a_smaller_model_that_eval_rebuilds_from_config()
    {
        var target = _temp.File("s");
        CliRunner.Succeed("prune", run.Folder, "--sparsity", "0.5", "--structured", "--out", target, "--threads", "1");
        var units = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "config.json")))!["pruned_units"]!.AsObject();
        Assert.Equal(4, (int)units["1"]!); // hidden 8 → 4
        Assert.Equal(new Shape(4, 784), SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors["1.weight"].Shape);
        Assert.Contains("accuracy", CliRunner.Succeed("eval", target, "--threads", "1").Output);
    }

    [Fact]
    public void Fine_tuning_ramps_to_the_sparsity_and_keeps_the_masks()
    {
        var target = _temp.File("f");
        CliRunner.Succeed("prune", run.Folder, "--sparsity", "0.6", "--finetune-epochs", "1", "--out", target, "--threads", "1");
        Assert.Equal(0.6, Zeros(target, "1.weight", "4.weight", "6.weight"), 2);
    }
}
