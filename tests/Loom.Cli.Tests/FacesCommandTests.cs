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
        var m = System.Text.RegularExpressions.Regex.Match(line, @"^similarity (-?[0-9.]+): (same|different) \(threshold (-?[0-9.]+), the run's equal-error-rate threshold; (cosine|(AS-norm|neighbour overlap), top [0-9]+ of [0-9]+ cohort images)\)$");
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

    // A few training steps on digits (plumbing, not quality) under a folder of its own; returns the run folder.
    private string QuickRun(string runsName, params string[] options)
    {
        var runs = run.Temp(runsName);
        CliRunner.Succeed(["train", "--task", "face-verification", "--data", "digits", "--epochs", "1", "--max-steps", "3", "--pairs", "200", "--threads", "2",
            .. options, "--output", runs]);
        return CliRunner.RunFolderUnder(runs);
    }

    [Fact]
    public void A_parts_run_records_its_grids_and_verify_and_pairs_and_eval_load_it()
    {
        var folder = QuickRun("parts-runs", "--parts", "1x1+2x2", "--embedding", "16");
        Assert.Equal("1x1+2x2", (string?)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!["parts"]);
        var shape = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "faces.json")))!;
        Assert.Equal(("1x1+2x2", 16), ((string?)shape["parts"], (int)shape["embedding"]!));
        Assert.InRange((double)TestData.Metrics(folder).Single(l => (string?)l["kind"] == "test")["eer"]!, 0, 1);
        // The network is rebuilt with its parts from faces.json, so its weights load and an image matches itself.
        string seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1), eight = LfwPairs.ImagePath(run.Lfw, "Eight", 1);
        Assert.Equal(1, Parse(Assert.Single(CliRunner.Succeed("faces", "verify", folder, seven, seven).Lines)).Similarity, 1e-3);
        Assert.InRange(Parse(Assert.Single(CliRunner.Succeed("faces", "verify", folder, seven, eight).Lines)).Similarity, -1, 0.9999);
        // The training cohort was embedded by the same network: AS-norm scores against embeddings of the parts' summed length.
        Assert.Single(CliRunner.Succeed("faces", "verify", folder, seven, eight, "--score-norm", "asnorm").Lines);
        Assert.Equal("4", CliRunner.Succeed("faces", "pairs", folder, run.Lfw).Lines[1].Split(',')[0]);
        Assert.Contains("eer", CliRunner.Succeed("eval", folder).Output);
        CliRunner.Fail(["train", "--task", "face-verification", "--data", "digits", "--parts", "2x", "--output", run.Temp("parts-runs")], "--parts takes grids HxW");
    }

    // Held-out digits of the training split (never test images) written as a user's folder of unlabelled pictures.
    private static string CohortFolder(FaceRunFixture run, string name, int count)
    {
        var folder = run.Temp(name);
        if (Directory.Exists(folder)) return folder;
        var train = Digits.Load().Train;
        var pixels = train.Inputs.ToArray<float>();
        var labels = train.Targets.ToArray<long>();
        var rows = Enumerable.Range(0, labels.Length).Where(i => labels[i] >= 7).Take(count).ToArray();
        Directory.CreateDirectory(Path.Combine(folder, "more"));
        for (int k = 0; k < rows.Length; k++)
            Detector.WriteGrey(pixels.AsSpan(rows[k] * 784, 784).ToArray(), 28, 28, Path.Combine(folder, k % 2 == 0 ? "" : "more", $"{k:D3}.png"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not an image: skipped");
        return folder;
    }

    [Fact]
    public void Verify_and_pairs_with_an_in_domain_cohort_score_by_the_run_s_in_domain_choice()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run.Folder, "verification.json")))!;
        int top = (int)json["cohort_top_in_domain"]!;
        double threshold = (double)json["threshold_in_domain"]!;
        string kind = (string)json["score_in_domain"]! == "overlap" ? "neighbour overlap" : "AS-norm";
        var test = TestData.Metrics(run.Folder).Single(l => (string?)l["kind"] == "test");
        Assert.InRange((double)test["val_eer_in_domain"]!, 0, 1);
        Assert.InRange((double)test["eer_in_domain"]!, 0, 1);
        var report = File.ReadAllText(Path.Combine(run.Folder, "report.md"));
        Assert.Contains("| asnorm | in-domain |", report);
        Assert.Contains("| overlap | in-domain |", report);
        // 30 pictures, in the folder and a sub-folder; the text file is not one of them.
        var cohort = CohortFolder(run, "cohort", 30);
        string seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1), eight = LfwPairs.ImagePath(run.Lfw, "Eight", 1);
        var line = Assert.Single(CliRunner.Succeed("faces", "verify", run.Folder, seven, eight, "--cohort", cohort).Lines);
        // K scaled from the cohort it was chosen with (half the held-out classes' 2,393 training images) to these 30.
        int size = (int)json["cohort_size_in_domain"]!, k = (int)Math.Round((double)top * 30 / size);
        Assert.EndsWith($"{kind}, top {(kind == "AS-norm" ? Math.Clamp(k, 2, 30) : Math.Clamp(k, 1, 29))} of 30 cohort images)", line);
        var (s, decision, printed) = Parse(line);
        Assert.Equal(threshold, printed, 1e-4);
        Assert.Equal(s >= printed ? "same" : "different", decision);
        // Another cohort: the score is read against the cohort given.
        Assert.EndsWith(" of 12 cohort images)", Assert.Single(CliRunner.Succeed("faces", "verify", run.Folder, seven, eight, "--cohort", CohortFolder(run, "cohort-small", 12)).Lines));
        var pairs = CliRunner.Succeed("faces", "pairs", run.Folder, run.Lfw, "--cohort", cohort).Lines[1].Split(',');
        Assert.Equal("4", pairs[0]);
        Assert.Equal(threshold, double.Parse(pairs[4], CultureInfo.InvariantCulture), 1e-4);
        CliRunner.Fail(["faces", "verify", run.Folder, seven, eight, "--cohort", cohort, "--score-norm", "cosine"], "--cohort scores by the in-domain score the run chose");
    }

    [Fact]
    public void A_missing_empty_or_bad_cohort_folder_is_one_line()
    {
        string seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1), eight = LfwPairs.ImagePath(run.Lfw, "Eight", 1);
        CliRunner.Fail(["faces", "verify", run.Folder, seven, eight, "--cohort", run.Temp("no-such-cohort")], "--cohort", "no-such-cohort: no such folder");
        var empty = run.Temp("empty-cohort");
        Directory.CreateDirectory(empty);
        File.WriteAllText(Path.Combine(empty, "readme.txt"), "no pictures here");
        CliRunner.Fail(["faces", "pairs", run.Folder, run.Lfw, "--cohort", empty], "--cohort", "0 images");
        var bad = run.Temp("bad-cohort");
        Directory.CreateDirectory(bad);
        File.Copy(seven, Path.Combine(bad, "a.png"));
        File.WriteAllBytes(Path.Combine(bad, "b.png"), File.ReadAllBytes(seven)[..30]);
        CliRunner.Fail(["faces", "verify", run.Folder, seven, eight, "--cohort", bad], "b.png");
    }

    [Fact]
    public void Adaptation_clusters_the_held_out_classes_unlabelled_images_into_pseudo_identities_that_join_training()
    {
        var runs = run.Temp("adapted-runs");
        var train = CliRunner.Succeed("train", "--task", "face-verification", "--data", "digits", "--epochs", "1", "--max-steps", "3", "--pairs", "200", "--threads", "2",
            "--adapt-from", run.Folder, "--adapt-clusters", "4", "--adapt-keep", "0.5", "--output", runs);
        var folder = CliRunner.RunFolderUnder(runs);
        Assert.Matches(@"\+ [234] pseudo-identities clustered from 1197 unlabelled held-out images by .* \(silhouette [0-9.]+; the surest [0-9]+ trained on\)",
            File.ReadAllText(Path.Combine(folder, "report.md")));
        var shape = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "faces.json")))!;
        Assert.InRange((int)shape["trained_classes"]!, 9, 11);
        // The training-class cohort stays labelled training images only.
        Assert.Equal([FaceVerificationEvaluation.CohortSize, 64], NpyReader.Read(Path.Combine(folder, "cohort.npy")).Shape.ToArray());
        Assert.Contains("eer", CliRunner.Succeed("eval", folder).Output);
        CliRunner.Fail(["train", "--task", "face-verification", "--data", "digits", "--held-out", "4", "--adapt-from", run.Folder, "--output", runs], "--adapt-from", "--held-out 4");
        CliRunner.Fail(["train", "--task", "face-verification", "--data", "digits", "--adapt-from", run.Temp("nowhere"), "--output", runs], "--adapt-from", "no such run folder");
    }

    [Fact]
    public void A_parts_run_adapts_from_a_parts_run_with_the_pseudo_identities_in_every_part_head_and_eval_clusters_again()
    {
        var source = QuickRun("parts-source-runs", "--parts", "2x2", "--embedding", "16");
        var folder = QuickRun("parts-adapted-runs", "--parts", "2x2", "--embedding", "16", "--adapt-from", source, "--adapt-clusters", "4");
        // The source's embedding (the 4 parts' 16-long vectors concatenated) clustered the unlabelled held-out images.
        var clusters = Regex.Match(File.ReadAllText(Path.Combine(folder, "report.md")), @"\+ ([234]) pseudo-identities clustered from 1197 unlabelled held-out images");
        Assert.True(clusters.Success);
        int classes = 7 + int.Parse(clusters.Groups[1].Value, CultureInfo.InvariantCulture);
        var shape = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "faces.json")))!;
        Assert.Equal(("2x2", classes, 16), ((string?)shape["parts"], (int)shape["trained_classes"]!, (int)shape["embedding"]!));
        // Every part's head holds a direction for each training class and each pseudo-identity.
        var tensors = SafeTensors.Load(Path.Combine(folder, "model.safetensors")).Tensors;
        var heads = tensors.Keys.Where(name => name.StartsWith("part_head", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["part_head0.weight", "part_head1.weight", "part_head2.weight", "part_head3.weight"], heads);
        Assert.All(heads, name => Assert.Equal(new Shape(classes, 16), tensors[name].Shape));
        // loom eval clusters again from the --adapt-from run its config names, so it rebuilds the same heads and loads the weights.
        Assert.Matches($@"\+\s+{classes - 7}\s+pseudo-identities", CliRunner.Succeed("eval", folder).Output);
        string seven = LfwPairs.ImagePath(run.Lfw, "Seven", 1);
        Assert.Equal(1, Parse(Assert.Single(CliRunner.Succeed("faces", "verify", folder, seven, seven).Lines)).Similarity, 1e-3);
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
