namespace Loom.Cli.Tests;

/// <summary>
/// `loom predict --output` never destroys what the user has: an existing file only with --force, and never the data
/// being predicted or a file of the run folder (its config.json, weights, checkpoint), --force or not.
/// </summary>
public sealed class PredictOutputTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>, IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>The command writing to an existing file named by <paramref name="option"/>: refused and the file kept, then written with --force.</summary>
    private string ExistingFileKeptUntilForced(string option, string name, params string[] command)
    {
        var path = _temp.File(name);
        File.WriteAllText(path, "precious\n");
        CliRunner.Fail([.. command, option, path], $"{option} {path} exists; pass --force to overwrite it");
        Assert.Equal("precious\n", File.ReadAllText(path));
        CliRunner.Succeed([.. command, option, path, "--force"]);
        return path;
    }

    [Fact]
    public void An_existing_file_is_kept_unless_force_is_given()
    {
        var path = ExistingFileKeptUntilForced("--output", "mine.csv", "predict", run.Folder);
        Assert.StartsWith("index,target,predicted,probability,p_0,", File.ReadAllText(path));
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("model.safetensors")]
    [InlineData("last.ckpt")]
    [InlineData("new-file-in-the-run.csv")]
    public void A_file_in_the_run_folder_is_refused_even_with_force(string name)
    {
        var before = TestData.Snapshot(run.Folder);
        var path = Path.Combine(run.Folder, name);
        CliRunner.Fail(["predict", run.Folder, "--output", path, "--force"], $"--output {path} is inside the run folder {run.Folder}");
        Assert.Equal(before, TestData.Snapshot(run.Folder));
    }

    [Fact]
    public void A_link_to_a_file_of_the_run_folder_is_refused_too()
    {
        var before = TestData.Snapshot(run.Folder);
        var link = _temp.File("looks-harmless.csv");
        File.CreateSymbolicLink(link, Path.Combine(run.Folder, "config.json"));
        CliRunner.Fail(["predict", run.Folder, "--output", link, "--force"], "is inside the run folder");
        Assert.Equal(before, TestData.Snapshot(run.Folder));
    }

    [Fact]
    public void The_data_being_predicted_is_refused_even_with_force()
    {
        // A table run, predicting a copy of its data: the copy is the input and must survive.
        var csv = TestData.BlobsCsv(_temp.Path);
        CliRunner.Succeed("train", "--data", csv, "--target", "label", "--hidden", "8", "--epochs", "1", "--output", _temp.File("runs"));
        var tableRun = CliRunner.RunFolderUnder(_temp.File("runs"));
        var input = _temp.File("input.csv");
        File.Copy(csv, input);
        var bytes = File.ReadAllBytes(input);

        CliRunner.Fail(["predict", tableRun, "--data", input, "--output", input, "--force"], $"--output {input} is the command's input {input}");
        Assert.Equal(bytes, File.ReadAllBytes(input));
        // Without --data the run's own data is the input.
        CliRunner.Fail(["predict", tableRun, "--output", csv, "--force"], "is the command's input");
        Assert.Equal(bytes, File.ReadAllBytes(csv));
    }

    [Fact]
    public void A_folder_or_a_missing_folder_is_one_error_line()
    {
        CliRunner.Fail(["predict", run.Folder, "--output", _temp.Path], "is a folder");
        CliRunner.Fail(["predict", run.Folder, "--output", _temp.File("no/such/folder.csv")], "does not exist");
    }

    [Fact]
    public void Export_keeps_an_existing_file_unless_forced_and_never_writes_into_the_run()
    {
        var path = ExistingFileKeptUntilForced("--onnx", "model.onnx", "export", run.Folder);
        Assert.Equal((byte)0x08, File.ReadAllBytes(path)[0]); // an ONNX ModelProto starts with field 1 (ir_version), varint: tag 0x08

        var before = TestData.Snapshot(run.Folder);
        CliRunner.Fail(["export", run.Folder, "--onnx", Path.Combine(run.Folder, "model.safetensors"), "--force"], "is inside the run folder");
        Assert.Equal(before, TestData.Snapshot(run.Folder));
    }

    [Fact]
    public void Bench_refuses_an_existing_json_before_it_measures_anything()
    {
        var path = _temp.File("results.json");
        File.WriteAllText(path, "{}");
        CliRunner.Fail(["bench", "kernels", "--only", "sgemm", "--json", path], $"--json {path} exists; pass --force to overwrite it");
        Assert.Equal("{}", File.ReadAllText(path));
        CliRunner.Fail(["bench", "kernels", "--only", "sgemm", "--json", _temp.File("no-such-folder/r.json")], "the folder", "does not exist");
    }

    [Fact]
    public void Bench_refuses_a_single_copy_before_it_measures_anything() =>
        CliRunner.Fail(["bench", "train", "--only", "trainstep", "--copies", "1"], "--copies must be at least 2, got 1");
}
