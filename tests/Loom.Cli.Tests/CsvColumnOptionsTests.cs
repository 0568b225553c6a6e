namespace Loom.Cli.Tests;

/// <summary>
/// `--categorical` and `--ignore`: the reader's advice for a column it refuses ("declare the column categorical",
/// "drop the column from the features") names the option that does it, and the option makes the table train; both are
/// kept in config.json, so eval and predict read new data the same way.
/// </summary>
public sealed class CsvColumnOptionsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>The blobs table with an identifier column "id" first and a "zip" column of codes, one of them written with a letter.</summary>
    private string WithIdAndZip(string name, bool withId = true)
    {
        var blobs = File.ReadAllLines(TestData.BlobsCsv(_temp.Path));
        var sb = new StringBuilder(withId ? "id," : "").Append(blobs[0]).Append(",zip\n");
        for (int i = 1; i < blobs.Length; i++)
        {
            if (withId) sb.Append(CultureInfo.InvariantCulture, $"r{i:000},");
            sb.Append(blobs[i]).Append(',').Append(i == 5 ? "1010X" : (1000 + i % 4 * 10).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        var path = _temp.File(name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static System.Text.Json.Nodes.JsonNode Config(string folder) =>
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;

    [Fact]
    public void The_reader_s_advice_names_the_option_and_the_options_make_the_table_train()
    {
        var csv = WithIdAndZip("people.csv");
        var runs = _temp.File("runs");
        string[] train = ["train", "--data", csv, "--target", "label", "--hidden", "8", "--epochs", "2", "--output", runs];

        CliRunner.Fail(train, "column 'zip' holds numbers but 1 of its cells is not ('1010X' at line 6)", "declare the column categorical if it is one (--categorical zip)");
        CliRunner.Fail([.. train, "--categorical", "zip"], "column 'id' looks like an identifier", "drop the column from the features (--ignore id)");
        CliRunner.Succeed([.. train, "--categorical", "zip", "--ignore", "id"]);

        var folder = CliRunner.RunFolderUnder(runs);
        var config = Config(folder);
        Assert.Equal(["zip"], config["categorical"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(["id"], config["ignore"]!.AsArray().Select(n => (string?)n));
        // zip's four codes (and the odd one) are one-hot features; id is not a feature.
        var features = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "features.json")))!["columns"]!.AsArray();
        Assert.Equal(["x0", "x1", "x2", "x3", "zip"], features.Select(c => (string?)c!["name"]));
        Assert.Equal(5, features[4]!["categories"]!.AsArray().Count);

        // New data without the ignored column is read the same way: zip as categories, id not needed.
        var newData = WithIdAndZip("new.csv", withId: false);
        CliRunner.Succeed("eval", folder, "--data", newData);
    }
}
