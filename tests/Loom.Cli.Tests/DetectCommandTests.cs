namespace Loom.Cli.Tests;

/// <summary>One tiny detection run (a single epoch on 64 small scenes: it exercises the plumbing, not quality), shared by the tests of `loom detect`.</summary>
public sealed class DetectionRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public DetectionRunFixture()
    {
        Train = CliRunner.Succeed("train", "--data", "digit-scenes", "--scenes", "64", "--test-scenes", "16", "--canvas", "48", "--epochs", "1", "--threads", "2", "--output", _temp.File("runs"));
        Folder = CliRunner.RunFolderUnder(_temp.File("runs"));
        // A scene composed from test digits, written as a picture a user would pass.
        var digits = Digits.Load().Test;
        var composer = new SceneComposer(digits.Inputs, digits.Targets.ToArray<long>(), 10, size: 48, scale: (10, 20));
        var (pixels, objects) = composer.Compose(seed: 1, index: 0);
        Scene = _temp.File("scene.png");
        Detector.WriteGrey(pixels, 48, 48, Scene);
        SceneObjects = objects;
    }

    internal CliResult Train { get; }

    public string Folder { get; }

    public string Scene { get; }

    public IReadOnlyList<Detection> SceneObjects { get; }

    public string Temp(string name) => _temp.File(name);

    public void Dispose() => _temp.Dispose();
}

public class DetectCommandTests(DetectionRunFixture run) : IClassFixture<DetectionRunFixture>
{
    [Fact]
    public void Training_on_scenes_records_the_detection_task_and_reports_both_map_figures()
    {
        var config = File.ReadAllText(Path.Combine(run.Folder, "config.json"));
        Assert.Contains("\"task\": \"detection\"", config);
        Assert.Contains("\"model\": \"centernet\"", config);
        Assert.Contains("\"canvas\": 48", config);
        var test = TestData.Metrics(run.Folder).Single(l => (string?)l["kind"] == "test");
        Assert.InRange((double)test["map50"]!, 0, 1);
        Assert.InRange((double)test["map50_95"]!, 0, (double)test["map50"]! + 1e-12);
        Assert.Contains("## Average precision per class", File.ReadAllText(Path.Combine(run.Folder, "report.md")));
    }

    [Fact]
    public void Detect_prints_one_line_per_object_and_draws_the_picture_enlarged()
    {
        var png = run.Temp("boxes.png");
        var result = CliRunner.Succeed("detect", run.Folder, run.Scene, "-o", png, "--threshold", "0.01");
        Assert.Equal("class,score,x1,y1,x2,y2", result.Lines[0]);
        foreach (var line in result.Lines.Skip(1))
        {
            var f = line.Split(',');
            Assert.Equal(6, f.Length);
            Assert.Contains(f[0], Digits.Info.ClassNames);
            Assert.InRange(double.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), 0.01, 1);
            foreach (var v in f[2..]) Assert.InRange(double.Parse(v, System.Globalization.CultureInfo.InvariantCulture), 0, 48);
        }
        // 48 pixels are drawn ten times larger (to about 512) so that labels can be read.
        Assert.Equal(new Shape(3, 480, 480), ImageReader.Read(png).Shape);
    }

    [Fact]
    public void Detect_never_draws_over_its_picture_the_run_or_an_existing_file_without_force()
    {
        var picture = run.Temp("mine.png");
        File.Copy(run.Scene, picture, overwrite: true);
        var bytes = File.ReadAllBytes(picture);
        CliRunner.Fail(["detect", run.Folder, picture, "-o", picture, "--force"], $"-o {picture} is the command's input {picture}");
        Assert.Equal(bytes, File.ReadAllBytes(picture));

        var existing = run.Temp("existing.png");
        File.WriteAllText(existing, "precious");
        CliRunner.Fail(["detect", run.Folder, picture, "-o", existing], $"-o {existing} exists; pass --force to overwrite it");
        Assert.Equal("precious", File.ReadAllText(existing));
        CliRunner.Succeed("detect", run.Folder, picture, "-o", existing, "--force");
        Assert.Equal(new Shape(3, 480, 480), ImageReader.Read(existing).Shape);

        var before = TestData.Snapshot(run.Folder);
        CliRunner.Fail(["detect", run.Folder, picture, "-o", Path.Combine(run.Folder, "config.json"), "--force"], "is inside the run folder");
        Assert.Equal(before, TestData.Snapshot(run.Folder));
    }

    [Fact]
    public void Predict_writes_one_row_per_detection_of_each_test_scene()
    {
        var csv = run.Temp("detections.csv");
        CliRunner.Succeed("predict", run.Folder, "--output", csv);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("scene,class,score,x1,y1,x2,y2", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.InRange(int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture), 0, 15));
    }

    [Fact]
    public void A_wide_detector_run_is_trained_and_loaded_by_detect_as_its_config_names_it()
    {
        var runs = run.Temp("wide");
        CliRunner.Succeed("train", "--data", "digit-scenes", "--model", "centernet-wide", "--scenes", "32", "--test-scenes", "8", "--canvas", "48",
            "--epochs", "1", "--max-steps", "2", "--threads", "2", "--output", runs);
        var folder = CliRunner.RunFolderUnder(runs);
        Assert.Contains("\"model\": \"centernet-wide\"", File.ReadAllText(Path.Combine(folder, "config.json")));
        // The small detector's weights would not load into it: detect must build the network the run was trained with.
        var result = CliRunner.Succeed("detect", folder, run.Scene, "--threshold", "0.01");
        Assert.Equal("class,score,x1,y1,x2,y2", result.Lines[0]);
        CliRunner.Fail(["train", "--data", "digit-scenes", "--model", "centernet-wide", "--canvas", "52", "--epochs", "1", "--output", runs], "--canvas must be a multiple of 8");
    }

    [Fact]
    public void Bad_pictures_and_runs_of_other_tasks_are_one_line_errors()
    {
        CliRunner.Fail(["detect", run.Folder, run.Temp("missing.png")], "missing.png", "does not exist");
        var corrupt = run.Temp("corrupt.png");
        File.WriteAllBytes(corrupt, File.ReadAllBytes(run.Scene)[..40]);
        CliRunner.Fail(["detect", run.Folder, corrupt], "corrupt.png");
        CliRunner.Fail(["detect", run.Folder, run.Scene, "--threshold", "1.5"], "--threshold must be in (0, 1)");

        var other = run.Temp("classifier");
        CliRunner.Succeed("train", "--data", "digits", "--epochs", "1", "--max-steps", "2", "--threads", "1", "--output", other);
        CliRunner.Fail(["detect", CliRunner.RunFolderUnder(other), run.Scene], "loom detect needs a detection run", "classification run");
    }
}
