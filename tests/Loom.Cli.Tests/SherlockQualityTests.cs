namespace Loom.Cli.Tests;

/// <summary>Project Gutenberg's "The Adventures of Sherlock Holmes" (pg1661), which Debian's golang-github-pierrec-lz4-dev ships as test data.</summary>
public static class Sherlock
{
    public const string Path = "/usr/share/gocode/src/github.com/pierrec/lz4/testdata/pg1661.txt";

    public static readonly InstalledData Text = new("The Adventures of Sherlock Holmes (pg1661)", "apt-get install golang-github-pierrec-lz4-dev", Path);
}

public sealed class SherlockFactAttribute() : InstalledDataFactAttribute(Sherlock.Text);

/// <summary>
/// The quick variant of the README's language-model run: gpt-tiny on characters for two epochs (under a minute on
/// two cores) must beat the bigram baseline on the validation text, which the report computes on the same split.
/// </summary>
public sealed class SherlockQualityTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [SherlockFact]
    [Trait("Category", "Slow")]
    public void A_quick_run_on_sherlock_holmes_beats_the_bigram_baseline_on_validation_text()
    {
        Sherlock.Text.Require();
        CliRunner.Succeed("train", "--data", Sherlock.Path, "--model", "gpt-tiny", "--tokenizer", "char", "--context", "64",
            "--batch-size", "32", "--lr", "3e-3", "--epochs", "2", "--threads", "2", "--output", _temp.Path);
        var folder = CliRunner.RunFolderUnder(_temp.Path);
        var epochs = TestData.Metrics(folder).Where(l => (string?)l["kind"] == "epoch").Select(l => (double)l["val_perplexity"]!).ToList();
        Assert.True(epochs[1] < epochs[0], $"validation perplexity rose: {string.Join(" → ", epochs)}");
        var row = File.ReadAllLines(Path.Combine(folder, "report.md")).Single(l => l.StartsWith("| validation |", StringComparison.Ordinal))
            .Split('|', StringSplitOptions.TrimEntries);
        double model = double.Parse(row[2], CultureInfo.InvariantCulture), bigram = double.Parse(row[4], CultureInfo.InvariantCulture);
        Assert.Equal(epochs[1], model, 2);
        Assert.True(model < 0.95 * bigram, $"validation perplexity {model} is not below the bigram's {bigram}");
    }
}
