namespace Loom.Cli.Tests;

/// <summary>`loom cluster RUN`: a codebook run that is several times smaller on disk and that eval takes; bad input is one error line.</summary>
public sealed class ClusterCommandTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Clustered_run_is_smaller_and_eval_takes_it()
    {
        var target = _temp.File("c");
        var result = CliRunner.Succeed("cluster", run.Folder, "--centroids", "16", "--out", target, "--threads", "1");
        Assert.Contains("bytes on disk", result.Output);
        var tensors = SafeTensors.Load(Path.Combine(target, "model.safetensors")).Tensors;
        Assert.True(tensors["1.weight_codebook"].Shape[0] <= 16);
        Assert.Equal(784 * 8 / 2, tensors["1.weight_indices"].Shape[0]);
        Assert.False(tensors.ContainsKey("1.weight"));
        // 4-bit indices for 6,416 of 6,442 float32 parameters: well over 6× smaller (headers aside).
        long before = new FileInfo(Path.Combine(run.Folder, "model.safetensors")).Length, after = new FileInfo(Path.Combine(target, "model.safetensors")).Length;
        Assert.True(before > 6 * after, $"{before} → {after} bytes");
        Assert.Contains("accuracy", CliRunner.Succeed("eval", target, "--threads", "1").Output);

        CliRunner.Fail(["cluster", run.Folder, "--centroids", "300"], "--centroids must be in [2, 256], got 300");
        // A codebook cut to two values leaves indices pointing past it: one line naming the file and the tensor.
        var damaged = new Dictionary<string, Tensor>(tensors) { ["1.weight_codebook"] = Tensor.FromArray(new[] { 0f, 1f }) };
        SafeTensors.Save(Path.Combine(target, "model.safetensors"), damaged);
        CliRunner.Fail(["eval", target, "--threads", "1"], "model.safetensors", "1.weight_indices[", "points at centroid", "of 2");
    }
}
