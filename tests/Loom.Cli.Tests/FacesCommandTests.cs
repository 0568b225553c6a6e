namespace Loom.Cli.Tests;

/// <summary>
/// One quick face-verification run (a few steps on digits 0–6, verified on 7–9: plumbing, not quality), and pictures of
/// held-out digits written as a user's files and as an LFW-format folder.
/// </summary>
public sealed class FaceRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public FaceRunFixture()
    {
        Train = CliRunner.Succeed("train", "--task", "face-verification", "--data", "digits", "--epochs", "1", "--max-steps", "5", "--pairs", "200", "--threads", "2", "--output", _temp.File("runs"));
        Folder = CliRunner.RunFolderUnder(_temp.File("runs"));
        var test = Digits.Load().Test;
        var pixels = test.Inputs.ToArray<float>();
        var labels = test.Targets.ToArray<long>();
        Lfw = _temp.File("lfw");
        foreach (var (digit, name) in new[] { (7L, "Seven"), (8L, "Eight") })
        {
            Directory.CreateDirectory(Path.Combine(Lfw, name));
            var rows = Enumerable.Range(0, labels.Length).Where(i => labels[i] == digit).Take(3).ToArray();
            for (int k = 0; k < rows.Length; k++)
                Detector.WriteGrey(pixels.AsSpan(rows[k] * 784, 784).ToArray(), 28, 28, LfwPairs.ImagePath(Lfw, name, k + 1));
        }
        File.WriteAllText(Path.Combine(Lfw, "pairs.txt"), "4\nSeven 1 2\nEight 2 3\nSeven 1 Eight 1\nSeven 3 Eight 2\n");
    }

    internal CliResult Train { get; }

    public string Folder { get; }

    public string Lfw { get; }

    public string Temp(string name) => _temp.File(name);

    public void Dispose() => _temp.Dispose();
}

public class FacesCommandTests(FaceRunFixture run) : IClassFixture<FaceRunFixture>
{
    private static (double Similarity, string Decision, double Threshold) Parse(string line)
    {
        var m = System.Text.RegularExpressions.Regex.Match(line, @"^similarity (-?[0-9.]+): (same|different) \(threshold (-?[0-9.]+), the run's equal-error-rate threshold; (cosine|AS-norm, top [0-9]+ of [0-9]+ cohort images)\)$");
        Assert.True(m.Success, line);
        return (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value, double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Training_records_the_task_and_the_open_set_figures()
    {
        Assert.Contains("\"task\": \"face-verification\"", File.ReadAllText(Path.Combine(run.Folder, "config.json")));
        var test = TestData.Metrics(run.Folder).Single(l => (string?)l["kind"] == "test");
        Assert.InRange((double)test["eer"]!, 0, 1);
        Assert.InRange((double)test["top1_identification"]!, 0, 1);
        Assert.True(File.Exists(Path.Combine(run.Folder, "verification.json")));
        var report = File.ReadAllText(Path.Combine(run.Folder, "report.md"));
        Assert.Contains("## Open-set verification (held-out classes, cosine)", report);
        // The score is chosen on the held-out classes' training images, never on the test pairs.
        Assert.Contains("## Pair score on held-out validation", report);
        Assert.InRange((double)test["val_eer_asnorm"]!, 0, 1);
        // The AS-norm cohort: embeddings of training images, saved so `loom faces` can score as the evaluation did.
        var cohort = NpyReader.Read(Path.Combine(run.Folder, "cohort.npy"));
        Assert.Equal([FaceVerificationEvaluation.CohortSize, 64], cohort.Shape.ToArray());
    }

    [Fact]
    public void Verify_by_as_norm_uses_the_saved_cohort_and_its_own_threshold()
    {
        string seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1), eight = LfwPairs.ImagePath(run.Lfw, "Eight", 1);
        var line = Assert.Single(CliRunner.Succeed("faces", "verify", run.Folder, seven, eight, "--score-norm", "asnorm").Lines);
        Assert.EndsWith($"AS-norm, top 200 of {FaceVerificationEvaluation.CohortSize} cohort images)", line);
        var (s, decision, threshold) = Parse(line);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run.Folder, "verification.json")))!;
        Assert.Equal((double)json["threshold_asnorm"]!, threshold, 1e-4);
        Assert.Equal(s >= threshold ? "same" : "different", decision);
        // The cosine line of the same pair differs: the score is not the cosine.
        Assert.NotEqual(Parse(Assert.Single(CliRunner.Succeed("faces", "verify", run.Folder, seven, eight).Lines)).Similarity, s, 3);
        CliRunner.Fail(["faces", "verify", run.Folder, seven, eight, "--score-norm", "znorm"], "--score-norm must be cosine or asnorm");
    }

    [Fact]
    public void Verify_prints_the_similarity_and_the_decision_at_the_run_s_threshold()
    {
        string seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1), eight = LfwPairs.ImagePath(run.Lfw, "Eight", 1);
        var (s, decision, threshold) = Parse(Assert.Single(CliRunner.Succeed("faces", "verify", run.Folder, seven, eight).Lines));
        Assert.InRange(s, -1, 1);
        Assert.Equal(s >= threshold ? "same" : "different", decision);
        // A picture against itself: similarity one, the same identity whatever the threshold below one.
        var (self, selfDecision, _) = Parse(Assert.Single(CliRunner.Succeed("faces", "verify", run.Folder, seven, seven).Lines));
        Assert.Equal(1, self, 1e-3);
        Assert.Equal("same", selfDecision);
    }

    [Fact]
    public void Pairs_scores_an_lfw_format_folder()
    {
        var result = CliRunner.Succeed("faces", "pairs", run.Folder, run.Lfw);
        Assert.Equal("pairs,eer,tar_at_far_1e-2,accuracy,threshold", result.Lines[0]);
        var f = result.Lines[1].Split(',');
        Assert.Equal("4", f[0]);
        foreach (var v in f[1..4]) Assert.InRange(double.Parse(v, CultureInfo.InvariantCulture), 0, 1);
    }

    [Fact]
    public void A_supcon_run_records_its_loss_and_projection_head_and_verify_and_pairs_and_eval_load_it()
    {
        var runs = run.Temp("supcon-runs");
        var train = CliRunner.Succeed("train", "--task", "face-verification", "--data", "digits", "--epochs", "1", "--max-steps", "3", "--pairs", "200", "--threads", "2",
            "--loss", "supcon", "--augment", "crop", "--instance-weight", "0.3", "--contrast-temperature", "0.2", "--projection", "32", "--output", runs);
        var folder = CliRunner.RunFolderUnder(runs);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.Equal(("supcon", 0.3, 0.2), ((string?)config["loss"], (double)config["instance_weight"]!, (double)config["contrast_temperature"]!));
        var shape = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "faces.json")))!;
        Assert.Equal((32, false), ((int)shape["projection"]!, (bool)shape["margin_head"]!));
        Assert.InRange((double)TestData.Metrics(folder).Single(l => (string?)l["kind"] == "test")["eer"]!, 0, 1);
        // The network is rebuilt with its projection head from faces.json, so its weights load; the embedding is the one before it.
        string seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1);
        Assert.Equal(1, Parse(Assert.Single(CliRunner.Succeed("faces", "verify", folder, seven, seven).Lines)).Similarity, 1e-3);
        Assert.Equal("4", CliRunner.Succeed("faces", "pairs", folder, run.Lfw).Lines[1].Split(',')[0]);
        Assert.Contains("eer", CliRunner.Succeed("eval", folder).Output);
        CliRunner.Fail(["train", "--task", "face-verification", "--data", "digits", "--loss", "supcon", "--output", runs], "--loss supcon compares two random views of each image: give --augment");
    }

    [Fact]
    public void Bad_input_is_one_line_naming_the_file()
    {
        var seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1);
        CliRunner.Fail(["faces", "verify", run.Folder, seven, run.Temp("nobody.png")], "nobody.png", "does not exist");
        var broken = run.Temp("broken");
        Directory.CreateDirectory(Path.Combine(broken, "Seven"));
        File.Copy(seven, LfwPairs.ImagePath(broken, "Seven", 1));
        File.WriteAllText(Path.Combine(broken, "pairs.txt"), "1\nSeven 1\n");
        CliRunner.Fail(["faces", "pairs", run.Folder, broken], Path.Combine(broken, "pairs.txt") + ":2: expected 'name n1 n2'");
        var truncated = run.Temp("truncated.png");
        File.WriteAllBytes(truncated, File.ReadAllBytes(seven)[..30]);
        CliRunner.Fail(["faces", "verify", run.Folder, seven, truncated], "truncated.png");
    }
}
