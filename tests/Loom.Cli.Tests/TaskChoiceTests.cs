namespace Loom.Cli.Tests;

/// <summary>The data picks the task and the default model; --task and --model override it.</summary>
public sealed class TaskChoiceTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static System.Text.Json.Nodes.JsonObject Config(string folder) =>
        (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;

    [Fact]
    public void A_table_without_model_trains_an_mlp()
    {
        var result = CliRunner.Succeed("train", "--data", TestData.BlobsCsv(_temp.Path), "--target", "label", "--hidden", "8", "--epochs", "1",
            "--output", _temp.File("runs"));

        var folder = CliRunner.RunFolderUnder(_temp.File("runs"));
        Assert.EndsWith("-blobs-mlp", folder);
        var config = Config(folder);
        Assert.Equal(("classification", "mlp", "label"), ((string?)config["task"], (string?)config["model"], (string?)config["target"]));
        Assert.Contains(result.Lines, l => l.StartsWith("loom train mlp on blobs.csv", StringComparison.Ordinal));
    }

    [Fact]
    public void Images_without_model_train_a_cnn_and_task_may_be_named()
    {
        CliRunner.Succeed("train", "--task", "classification", "--max-steps", "1", "--output", _temp.File("runs"));
        var folder = CliRunner.RunFolderUnder(_temp.File("runs"));
        Assert.EndsWith("-digits-cnn", folder);
        Assert.Equal("cnn", (string?)Config(folder)["model"]);
    }

    [Fact]
    public void A_run_folder_written_before_tasks_evaluates_as_classification()
    {
        CliRunner.Succeed("train", "--model", "mlp", "--hidden", "8", "--max-steps", "2", "--output", _temp.File("runs"));
        var folder = CliRunner.RunFolderUnder(_temp.File("runs"));
        var config = Config(folder);
        Assert.True(config.Remove("task"));
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

        var result = CliRunner.Succeed("eval", folder);
        Assert.Contains(result.Lines, l => l.Contains("accuracy", StringComparison.Ordinal));
    }
}
