using System.Text.Json.Nodes;

namespace Loom.Train.Tests.Runs;

public sealed class RunFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("loom-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Metrics_lines_append_and_read_back_in_order()
    {
        var folder = new RunFolder(Path.Combine(_root, "a"));
        Assert.Empty(folder.ReadMetrics());
        folder.AppendMetrics(new JsonObject { ["kind"] = "epoch", ["epoch"] = 1 });
        folder.AppendMetrics(new JsonObject { ["kind"] = "test", ["accuracy"] = 0.5 });
        Assert.Equal(["epoch", "test"], folder.ReadMetrics().Select(l => (string?)l["kind"]));
        Assert.Equal(2, File.ReadAllLines(folder.MetricsPath).Length);
    }

    [Fact]
    public void Rewrite_keeps_only_the_lines_asked_for()
    {
        var folder = new RunFolder(Path.Combine(_root, "b"));
        for (int e = 1; e <= 3; e++) folder.AppendMetrics(new JsonObject { ["kind"] = "epoch", ["epoch"] = e });
        folder.AppendMetrics(new JsonObject { ["kind"] = "test" });
        folder.RewriteMetrics(l => (int?)l["epoch"] <= 2);
        Assert.Equal([1, 2], folder.ReadMetrics().Select(l => (int)l["epoch"]!));
        Assert.False(File.Exists(folder.MetricsPath + ".tmp"));
    }

    [Fact]
    public void The_logger_writes_one_line_per_epoch_with_non_finite_values_as_null()
    {
        var folder = new RunFolder(Path.Combine(_root, "c"));
        var logger = new RunLogger(folder);
        var values = new Dictionary<string, double> { ["loss"] = 0.25, ["val_loss"] = double.NaN };
        logger.OnEpochEnd(null!, new EpochSummary(0, 10, values, TimeSpan.FromSeconds(1.23456)));
        var line = Assert.Single(folder.ReadMetrics());
        Assert.Equal("{\"kind\":\"epoch\",\"epoch\":1,\"step\":10,\"seconds\":1.235,\"loss\":0.25,\"val_loss\":null}", line.ToJsonString());
    }

    [Fact]
    public void New_run_folders_under_one_root_never_collide()
    {
        var a = RunFolder.CreateUnder(_root, "digits-mlp");
        var b = RunFolder.CreateUnder(_root, "digits-mlp");
        Assert.NotEqual(a.Path, b.Path);
        Assert.True(Directory.Exists(a.Path) && Directory.Exists(b.Path));
    }

    [Fact]
    public void Reading_the_config_of_a_folder_without_one_says_so()
    {
        var folder = new RunFolder(Path.Combine(_root, "d"));
        Loom.Testing.TensorAssert.Throws<FileNotFoundException>(() => folder.ReadConfig(), "no config.json");
    }
}
