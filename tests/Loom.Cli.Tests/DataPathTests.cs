namespace Loom.Cli.Tests;

/// <summary>config.json keeps a data file by its absolute path: a run trained from one folder evaluates from any other.</summary>
public sealed class DataPathTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string _workingFolder = Directory.GetCurrentDirectory();

    public void Dispose()
    {
        Directory.SetCurrentDirectory(_workingFolder);
        _temp.Dispose();
    }

    [Fact]
    public void A_relative_data_path_is_stored_absolute_and_a_built_in_name_as_a_name()
    {
        var project = _temp.File("project");
        Directory.CreateDirectory(project);
        TestData.BlobsCsv(project);
        Directory.SetCurrentDirectory(project);
        CliRunner.Succeed("train", "--data", "blobs.csv", "--target", "label", "--hidden", "8", "--epochs", "1", "--output", "runs");
        var folder = CliRunner.RunFolderUnder(Path.Combine(project, "runs"));

        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.Equal(Path.Combine(project, "blobs.csv"), (string?)config["data"]);
        Directory.SetCurrentDirectory(_temp.Path);
        CliRunner.Succeed("eval", folder);

        // A folder named like a built-in dataset does not make "digits" a path.
        Directory.CreateDirectory("digits");
        CliRunner.Succeed("train", "--model", "mlp", "--hidden", "8", "--max-steps", "1", "--output", "digit-runs");
        Assert.Equal("digits", (string?)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(CliRunner.RunFolderUnder("digit-runs"), "config.json")))!["data"]);
    }
}
