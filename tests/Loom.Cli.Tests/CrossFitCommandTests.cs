namespace Loom.Cli.Tests;

/// <summary>
/// `loom train --split-seed S --fold k/K` and `loom ensemble --out-of-fold` end to end on digits: the split seed is
/// recorded and kept by a resume; cross-fitted members make an ensemble whose output for a member's training sample is
/// the other member's, whose config.json records each member's split, which refuses a member whose split changed, and
/// which a student distils from.
/// </summary>
public sealed partial class CrossFitCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static JsonNode Config(string run) => JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;

    [Fact]
    public void The_split_seed_is_recorded_and_a_resume_keeps_it()
    {
        CliRunner.Succeed("train", "--model", "mlp", "--hidden", "8", "--epochs", "2", "--max-steps", "3", "--seed", "1", "--split-seed", "5", "--threads", "1", "--output", _temp.File("run"));
        var run = CliRunner.RunFolderUnder(_temp.File("run"));
        Assert.Equal(5UL, (ulong?)Config(run)["split_seed"]);
        Assert.Null(Config(run)["fold"]);
        CliRunner.Fail(["train", "--resume", run, "--split-seed", "6"], "--split-seed", "cannot change");
        CliRunner.Fail(["train", "--resume", run, "--fold", "1/2"], "--fold", "cannot change");
        CliRunner.Succeed("train", "--resume", run, "--max-steps", "100000", "--threads", "1");
        Assert.Equal(5UL, (ulong?)Config(run)["split_seed"]);
        Assert.Equal(1UL, (ulong?)Config(run)["seed"]);

        CliRunner.Fail(["train", "--fold", "3/2", "--output", _temp.File("bad")], "--fold must be k/K", "'3/2'");
        CliRunner.Fail(["train", "--fold", "two", "--output", _temp.File("bad")], "--fold must be k/K");
        CliRunner.Fail(["cv", "--fold", "1/2", "--output", _temp.File("bad")], "--fold", "loom train");
        Assert.False(Directory.Exists(_temp.File("bad")));
    }

    [Fact]
    public void Cross_fitted_members_make_an_out_of_fold_teacher_that_a_student_distils_from()
    {
        var members = new[] { 1, 2 }.Select(k =>
        {
            CliRunner.Succeed("train", "--model", "mlp", "--hidden", "8", "--epochs", "1", "--max-steps", "20", "--seed", $"{k}", "--split-seed", "7", "--fold", $"{k}/2",
                "--threads", "1", "--output", _temp.File($"member{k}"));
            return CliRunner.RunFolderUnder(_temp.File($"member{k}"));
        }).ToArray();
        Assert.Equal(2, (int?)Config(members[1])["fold"]!["index"]);
        CliRunner.Succeed(["ensemble", .. members, "--out-of-fold", "--threads", "1", "--output", _temp.File("oof")]);
        var ensemble = CliRunner.RunFolderUnder(_temp.File("oof"));
        var config = Config(ensemble);
        Assert.True((bool?)config["out_of_fold"]);
        var recorded = config["ensemble"]!.AsArray();
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(7UL, (ulong?)recorded[k]!["split_seed"]);
            Assert.Equal(k + 1, (int?)recorded[k]!["fold"]!["index"]);
            Assert.Matches("^[0-9a-f]{64}$", (string?)recorded[k]!["trained_rows_sha256"]);
        }
        // A plain ensemble of the same members records no splits and averages both members everywhere.
        CliRunner.Succeed(["ensemble", .. members, "--threads", "1", "--output", _temp.File("plain")]);
        var plain = Config(CliRunner.RunFolderUnder(_temp.File("plain")));
        Assert.Null(plain["out_of_fold"]);
        Assert.Null(plain["ensemble"]![0]!["trained_rows_sha256"]);

        // The rule on real rows: a row only member 1 trained on gets member 2's output, a validation row both members'.
        var teacher = Pipeline.Load(new Loom.Train.RunFolder(ensemble), threads: 1);
        var models = members.Select(m => Pipeline.Load(new Loom.Train.RunFolder(m), threads: 1)).ToArray();
        var data = (ClassificationData)teacher.Data;
        var rows = models.Select(m => Pipeline.TrainingRows(m.Config, data)).ToArray();
        Assert.Empty(rows[0].Train.Intersect(rows[1].Train));
        Assert.Equal(rows[0].Validation, rows[1].Validation);
        int onlyFirst = rows[0].Train[0], validation = rows[0].Validation[0];
        var x = Tensor.Cat([data.Train[onlyFirst].Input.Unsqueeze(0), data.Train[validation].Input.Unsqueeze(0)], 0);
        var output = teacher.Model.Forward(x).ToArray<double>();
        var first = models[0].Model.Forward(x).LogSoftmax(-1).ToArray<double>();
        var second = models[1].Model.Forward(x).LogSoftmax(-1).ToArray<double>();
        for (int c = 0; c < 10; c++)
        {
            Assert.Equal(second[c], output[c], 1e-4);
            Assert.Equal(Math.Log((Math.Exp(first[10 + c]) + Math.Exp(second[10 + c])) / 2), output[10 + c], 1e-4);
        }
        Assert.NotEqual(first[0], second[0], 3);

        // A member whose split no longer reproduces is refused in one line, and accepted again once restored.
        var memberConfig = Path.Combine(members[0], "config.json");
        var original = File.ReadAllText(memberConfig);
        File.WriteAllText(memberConfig, original.Replace("\"split_seed\": 7", "\"split_seed\": 8"));
        CliRunner.Fail(["eval", ensemble], "training split cannot be reproduced", "split seed 8");
        File.WriteAllText(memberConfig, original);

        var result = CliRunner.Succeed("distill", "--teacher", ensemble, "--model", "mlp", "--hidden", "4", "--epochs", "2", "--temperature", "2", "--alpha", "0.5",
            "--split-seed", "7", "--threads", "1", "--output", _temp.File("student"));
        var printed = Regex.Replace(result.Output, @"\s+", " ");
        Assert.Contains("out-of-fold targets", printed);
        var counts = TeacherCounts().Match(printed);
        Assert.True(counts.Success && long.Parse(counts.Groups[2].Value.Replace(",", "")) > 0, result.Output);
        Assert.Contains("accuracy", CliRunner.Succeed("eval", CliRunner.RunFolderUnder(_temp.File("student")), "--threads", "1").Output);
    }

    [GeneratedRegex(@"teacher ran on ([\d,]+) samples, its remembered outputs served ([\d,]+)")]
    private static partial Regex TeacherCounts();
}
