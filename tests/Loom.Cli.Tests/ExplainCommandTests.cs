using SkiaSharp;

namespace Loom.Cli.Tests;

/// <summary>Quick runs for `loom explain` and `loom activations`, each trained the first time a test asks for it.</summary>
public sealed class ExplainRunsFixture : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly Lazy<string> _digits, _table, _text;

    public ExplainRunsFixture()
    {
        _digits = new(() => Train("digits", "--data", "digits", "--model", "cnn", "--epochs", "1", "--max-steps", "10"));
        _table = new(() => Train("table", "--data", TestData.BlobsCsv(_temp.Path), "--target", "label", "--hidden", "8", "--epochs", "3"));
        _text = new(() => Train("text", "--data", Reviews(), "--text-column", "text", "--target", "label", "--model", "transformer", "--embedding-dim", "16",
            "--epochs", "3", "--lr", "1e-2"));
    }

    /// <summary>A digits CNN (28×28 images, 10 steps: the pictures matter here, not the accuracy).</summary>
    public string Digits => _digits.Value;

    /// <summary>An MLP on a four-feature table of three blobs.</summary>
    public string Table => _table.Value;

    /// <summary>A two-layer, four-head text transformer on short reviews.</summary>
    public string Text => _text.Value;

    public string Temp(string name) => _temp.File(name);

    private string Train(string name, params string[] args)
    {
        var root = _temp.File(name);
        CliRunner.Succeed(["train", .. args, "--threads", "2", "--output", root]);
        return CliRunner.RunFolderUnder(root);
    }

    private string Reviews()
    {
        string[] good = ["good", "great", "superb", "funny"], bad = ["bad", "dull", "awful", "boring"];
        var lines = new List<string> { "text,label" };
        for (int i = 0; i < 60; i++)
            lines.Add($"\"the film was {(i % 2 == 0 ? good : bad)[i % 4]} and the cast was {(i % 2 == 0 ? good : bad)[(i / 2 + 1) % 4]}\",{(i % 2 == 0 ? "pos" : "neg")}");
        var path = _temp.File("reviews.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    public void Dispose() => _temp.Dispose();
}

/// <summary>`loom explain` and `loom activations` run as the user runs them: the files they write, and their errors.</summary>
public sealed class ExplainCommandTests(ExplainRunsFixture runs) : IClassFixture<ExplainRunsFixture>
{
    private static (int Width, int Height) PngSize(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        using var codec = SKCodec.Create(path);
        Assert.NotNull(codec);
        return (codec.Info.Width, codec.Info.Height);
    }

    /// <summary>Every picture explain.md links to exists; returns the links.</summary>
    private static List<string> Links(string run)
    {
        var links = Regex.Matches(File.ReadAllText(Path.Combine(run, "explain.md")), @"\]\((explain/[^)]+)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.All(links, link => Assert.True(File.Exists(Path.Combine(run, link)), $"explain.md links to {link}, which does not exist"));
        return links;
    }

    [Fact]
    public void Image_methods_draw_heat_maps_of_the_expected_size_linked_from_explain_md()
    {
        var run = runs.Digits;
        // 4 samples of the built-in 28×28 digits: one row of 4 tiles of 28·4 pixels with 2-pixel gaps.
        foreach (var method in new[] { "ig", "saliency", "smoothgrad", "occlusion" })
        {
            var result = CliRunner.Succeed("explain", run, "--method", method, "--samples", "4", "--steps", "8");
            Assert.Equal((4 * 112 + 3 * 2, 112), PngSize(Path.Combine(run, "explain", method + ".png")));
            Assert.Contains("of 4 samples", result.Output);
        }
        var ig = File.ReadAllText(Path.Combine(run, "explain", "ig.md"));
        Assert.Matches(@"with 8 Gauss–Legendre steps: relative error mean [0-9.]+ %, max [0-9.]+ %", ig);
        // The activations test shares the run: its links may be there too.
        Assert.Subset(Links(run).ToHashSet(), new HashSet<string> { "explain/ig.png", "explain/saliency.png", "explain/smoothgrad.png", "explain/occlusion.png" });
    }

    [Fact]
    public void Ig_writes_each_samples_completeness_and_refines_those_above_the_tolerance()
    {
        var run = runs.Digits;
        var result = CliRunner.Succeed("explain", run, "--method", "ig", "--samples", "6", "--steps", "4", "--ig-tolerance", "0.01");
        Assert.Matches(@"with 4 Gauss–Legendre steps: relative error mean [0-9.]+ %, max [0-9.]+ %; after integrating the [0-9]+ samples above 1 % again", result.Output);
        var rows = File.ReadAllLines(Path.Combine(run, "explain", "ig_completeness.csv"));
        Assert.Equal("test_index,class,output_difference,delta,relative_error,first_pass_relative_error,steps", rows[0]);
        Assert.Equal(7, rows.Length);
        foreach (var row in rows.Skip(1).Select(r => r.Split(',')))
        {
            double relative = double.Parse(row[4], System.Globalization.CultureInfo.InvariantCulture), first = double.Parse(row[5], System.Globalization.CultureInfo.InvariantCulture);
            int steps = int.Parse(row[6], System.Globalization.CultureInfo.InvariantCulture);
            // Met at once (4 steps, unchanged), or refined until met or the cap of 32 × 4 steps.
            Assert.True(first <= 0.01 ? steps == 4 && relative == first : steps > 4 && (relative <= 0.01 || steps == 128), string.Join(",", row));
        }
        Assert.Contains("explain/ig_completeness.csv", Links(run));
    }

    [Fact]
    public void Table_methods_draw_one_bar_per_feature()
    {
        var run = runs.Table;
        foreach (var method in new[] { "permutation", "shap", "ig" })
        {
            CliRunner.Succeed("explain", run, "--method", method, "--samples", "8");
            // Bars: 900 pixels wide, 120 + 28 per bar high, one bar per feature.
            Assert.Equal((900, 120 + 28 * 4), PngSize(Path.Combine(run, "explain", method + ".png")));
        }
        var permutation = File.ReadAllText(Path.Combine(run, "explain", "permutation.md"));
        foreach (var feature in new[] { "x0", "x1", "x2", "x3" }) Assert.Contains($"| {feature} |", permutation);
        Assert.Subset(Links(run).ToHashSet(), new HashSet<string> { "explain/permutation.png", "explain/shap.png", "explain/ig.png", "explain/ig_completeness.csv" });
    }

    [Fact]
    public void Activations_write_statistics_and_a_projection_of_the_chosen_layer()
    {
        var run = runs.Digits;
        var result = CliRunner.Succeed("activations", run, "--samples", "60");
        Assert.Contains("PCA of", result.Output);
        var section = File.ReadAllText(Path.Combine(run, "explain", "activations.md"));
        Assert.Contains("| layer | kind | units |", section);
        var pca = Assert.Single(Directory.GetFiles(Path.Combine(run, "explain"), "pca_*.png"));
        Assert.Equal((850, 700), PngSize(pca));

        // --layer: the first convolution, by its name in the model.
        CliRunner.Succeed("activations", run, "--samples", "60", "--layer", "0");
        Assert.Equal((850, 700), PngSize(Path.Combine(run, "explain", "pca_0.png")));
        Assert.Contains("### Layer 0", File.ReadAllText(Path.Combine(run, "explain", "activations.md")));
        Assert.Contains("explain/pca_0.png", Links(run));
    }

    [Fact]
    public void Attention_maps_of_a_text_transformer_label_the_words_and_draw_every_layer()
    {
        var run = runs.Text;
        var result = CliRunner.Succeed("activations", run, "--attention", "--text", "the film was superb and the cast was great");
        Assert.Contains("attention of encoder.layers.0.self_attn: 4 heads over 9 tokens", result.Output);
        Assert.Contains("attention of encoder.layers.1.self_attn: 4 heads over 9 tokens", result.Output);
        var section = File.ReadAllText(Path.Combine(run, "explain", "attention.md"));
        Assert.Contains("`the film was superb and the cast was great`", section);
        foreach (var layer in new[] { "0", "1" })
            // Four 420-pixel panels in a row under a 36-pixel title.
            Assert.Equal((4 * 420, 36 + 420), PngSize(Path.Combine(run, "explain", $"attention_encoder_layers_{layer}_self_attn.png")));
        Assert.Contains("explain/attention_encoder_layers_1_self_attn.png", Links(run));
        // Token ids the model read: text classification token strips still work on the same run.
        CliRunner.Succeed("explain", run, "--method", "ig", "--samples", "2", "--steps", "8");
        Assert.Contains("explain/ig_text0.png", Links(run));
    }

    [Fact]
    public void Bad_requests_fail_with_one_line_naming_the_problem()
    {
        CliRunner.Fail(["explain", runs.Digits, "--method", "lime"], "lime");
        CliRunner.Fail(["explain", runs.Digits, "--method", "shap"], "--method shap", "tabular");
        CliRunner.Fail(["explain", runs.Text, "--method", "occlusion"], "--method ig or saliency");
        CliRunner.Fail(["activations", runs.Digits, "--layer", "nope", "--samples", "8"], "--layer nope", "no such layer");
        CliRunner.Fail(["activations", runs.Digits, "--attention"], "--attention", "this run's task is classification");
        CliRunner.Fail(["activations", runs.Text, "--text", "a film"], "--text goes with --attention");
        CliRunner.Fail(["explain", runs.Digits, "--method", "saliency", "--ig-tolerance", "0.01"], "--ig-tolerance goes with --method ig");
        CliRunner.Fail(["explain", runs.Temp("no-such-run")], "run folder", "does not exist");
        CliRunner.Fail(["activations", runs.Temp("no-such-run")], "run folder", "does not exist");
    }
}
