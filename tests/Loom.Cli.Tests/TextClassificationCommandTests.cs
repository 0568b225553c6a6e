namespace Loom.Cli.Tests;

/// <summary>`loom train`, `cv`, `predict` and `predict --text` on labelled text, and their errors.</summary>
public sealed class TextClassificationCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly string[] Good = ["good", "great", "wonderful", "moving", "funny", "superb"], Bad = ["bad", "dull", "awful", "boring", "weak", "tedious"];

    private string Reviews(int rows = 80) => WriteReviews(_temp.File("reviews.csv"), rows);

    /// <summary>Writes a CSV (text, label) of sentences whose class shows only in their adjectives; the rest of each sentence is shared filler.</summary>
    public static string WriteReviews(string path, int rows = 80)
    {
        var lines = new List<string> { "text,label" };
        for (int i = 0; i < rows; i++)
        {
            var words = i % 2 == 0 ? Good : Bad;
            lines.Add($"\"the film was {words[i % 6]} , and the cast was {words[(i / 2 + 1) % 6]}\",{(i % 2 == 0 ? "pos" : "neg")}");
        }
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Train_on_labelled_text_writes_a_run_whose_predict_text_prints_class_and_probability()
    {
        var data = Reviews();
        CliRunner.Succeed("train", "--data", data, "--text-column", "text", "--target", "label", "--quick", "--epochs", "15", "--lr", "1e-2",
            "--val-fraction", "0", "--output", _temp.File("runs"));
        var run = CliRunner.RunFolderUnder(_temp.File("runs"));
        var config = File.ReadAllText(Path.Combine(run, "config.json"));
        Assert.Contains("\"task\": \"text-classification\"", config);
        Assert.Contains("\"model\": \"textcnn\"", config);
        var report = File.ReadAllText(Path.Combine(run, "report.md"));
        Assert.Contains("## Model against the VADER lexicon baseline", report);
        Assert.Contains("## Examples", report);

        var result = CliRunner.Succeed("predict", run, "--text", "the film was superb , and the cast was great", "--text", "the film was dull , and the cast was awful");
        Assert.Equal(2, result.Lines.Length);
        var (first, second) = (result.Lines[0].Split('\t'), result.Lines[1].Split('\t'));
        Assert.Equal("pos", first[0]);
        Assert.Equal("neg", second[0]);
        Assert.InRange(double.Parse(first[1], CultureInfo.InvariantCulture), 0.5, 1.0);

        // New text without labels, from a file: one row per text with its line and probabilities.
        var fresh = _temp.File("new.csv");
        File.WriteAllText(fresh, "text\n\"the film was wonderful , and the cast was funny\"\n");
        var output = _temp.File("predictions.csv");
        CliRunner.Succeed("predict", run, "--data", fresh, "--output", output);
        var rows = File.ReadAllLines(output);
        Assert.Equal("line,text,predicted,probability,p_neg,p_pos", rows[0]);
        Assert.StartsWith("2,the film was wonderful , and the cast was funny,pos,", rows[1].Replace("\"", ""));
    }

    [Fact]
    public void Cv_reports_the_model_and_the_lexicon_baseline_per_fold_and_as_mean_and_std()
    {
        var data = Reviews();
        CliRunner.Succeed("cv", "--folds", "2", "--data", data, "--quick", "--epochs", "3", "--test-fraction", "0", "--output", _temp.Path);
        var lines = TestData.Metrics(CliRunner.RunFolderUnder(_temp.Path));
        var folds = lines.Where(l => (string?)l["kind"] == "fold").ToList();
        Assert.All(folds, f => Assert.Equal((40, 40), ((int)f["train"]!, (int)f["validation"]!))); // --test-fraction 0: all 80 rows
        // VADER rates every adjective here with the sign of its class, so the lexicon classifies every row right.
        Assert.All(folds, f => Assert.Equal(1.0, (double)f["lexicon_accuracy"]!));
        var summary = Assert.Single(lines, l => (string?)l["kind"] == "cv_summary");
        Assert.NotNull(summary["accuracy"]!["std"]);
        Assert.Equal(1.0, (double)summary["lexicon_f1_macro"]!["mean"]!);
    }

    [Fact]
    public void Fasttext_in_cv_beats_chance_on_words_it_must_learn()
    {
        var data = Reviews();
        CliRunner.Succeed("cv", "--folds", "2", "--data", data, "--model", "fasttext", "--quick", "--epochs", "10", "--lr", "3e-2", "--test-fraction", "0", "--output", _temp.Path);
        var summary = Assert.Single(TestData.Metrics(CliRunner.RunFolderUnder(_temp.Path)), l => (string?)l["kind"] == "cv_summary");
        Assert.True((double)summary["accuracy"]!["mean"]! >= 0.9, $"fasttext cv accuracy {summary["accuracy"]!["mean"]}");
    }

    [Fact]
    public void A_minilm_run_predicts_text_and_a_missing_encoder_is_one_clear_error()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _temp.File("cache")); // not the user's ~/.cache
        try
        {
            var data = Reviews(40);
            CliRunner.Succeed("train", "--data", data, "--model", "minilm", "--epochs", "10", "--lr", "1e-2", "--val-fraction", "0", "--output", _temp.File("runs"));
            var run = CliRunner.RunFolderUnder(_temp.File("runs"));
            Assert.False(File.Exists(Path.Combine(run, "tokenizer.json"))); // the encoder's vocabulary comes with the encoder
            var result = CliRunner.Succeed("predict", run, "--text", "the film was wonderful , and the cast was superb", "--text", "the film was tedious , and the cast was awful");
            Assert.Equal(["pos", "neg"], result.Lines.Select(l => l.Split('\t')[0]));
            var missing = _temp.File("nowhere/model.onnx");
            CliRunner.Fail(["train", "--data", data, "--model", "minilm", "--encoder", missing, "--output", _temp.File("runs2")], missing, "no such file");
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", cache);
        }
    }

    [Fact]
    public void Bad_text_data_and_misused_runs_give_one_line_errors_naming_the_file_and_place()
    {
        var broken = _temp.File("broken.csv");
        File.WriteAllText(broken, "text,label\n\"fine words here and more\",pos\n\"cut off in the middle of a quote");
        CliRunner.Fail(["train", "--data", broken, "--text-column", "text", "--target", "label", "--output", _temp.Path], broken, "line 3");
        var data = Reviews();
        CliRunner.Fail(["train", "--data", data, "--text-column", "review", "--target", "label", "--output", _temp.Path], data, "no column 'review'");
        CliRunner.Fail(["train", "--data", data, "--model", "cnn", "--output", _temp.Path], "--model cnn", "textcnn, bilstm, transformer, fasttext, minilm or minilm-fasttext");
        CliRunner.Fail(["train", "--data", data, "--word-scores", "glove", "--output", _temp.Path], "--word-scores must be lexicon or none");
        Assert.Empty(Directory.GetDirectories(_temp.Path));

        var table = TestData.BlobsCsv(_temp.Path);
        CliRunner.Succeed("train", "--data", table, "--target", "label", "--epochs", "1", "--output", _temp.File("runs"));
        CliRunner.Fail(["predict", CliRunner.RunFolderUnder(_temp.File("runs")), "--text", "hello"], "--text needs a text-classification run", "classification run");
    }

    /// <summary>
    /// The --quick setting on the real 4,000 sentences (seconds): it must beat chance on the 400 held-out sentences by a
    /// margin (50% ± 2.5% is chance's spread).
    /// </summary>
    [PangLeeFact]
    public void A_quick_run_on_the_pang_lee_sentences_beats_chance()
    {
        PangLee.Data.Require();
        CliRunner.Succeed("train", "--data", PangLee.Sentences, "--quick", "--epochs", "3", "--lr", "3e-3", "--output", _temp.Path);
        var test = Assert.Single(TestData.Metrics(CliRunner.RunFolderUnder(_temp.Path)), l => (string?)l["kind"] == "test");
        Assert.Equal(400, (int)test["samples"]!);
        Assert.True((double)test["accuracy"]! > 0.58, $"test accuracy {test["accuracy"]} is near chance");
        Assert.True((double)test["lexicon_accuracy"]! > 0.58, $"the lexicon baseline {test["lexicon_accuracy"]} is near chance");
    }
}
