namespace Loom.Cli.Tests;

/// <summary>One of scikit-learn's bundled data files (Debian python3-sklearn).</summary>
public sealed class SklearnDataFactAttribute(string file) : InstalledDataFactAttribute(SklearnData(file))
{
    public const string Folder = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    public static InstalledData SklearnData(string file) => new($"scikit-learn's {file}", "apt-get install python3-sklearn", Path.Combine(Folder, file));
}

/// <summary>The MLP trained through `loom train` on real tabular data must reach the accuracy such models are known to reach.</summary>
public sealed class TabularQualityTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private double TestAccuracy(string file, params string[] options)
    {
        SklearnDataFactAttribute.SklearnData(file).Require();
        var source = Path.Combine(SklearnDataFactAttribute.Folder, file);
        var csv = TestData.FromSklearn(source, _temp.Path);
        var output = _temp.File("runs");
        CliRunner.Succeed(["train", "--data", csv, "--target", "target", "--model", "mlp", .. options, "--output", output]);
        var test = TestData.Metrics(CliRunner.RunFolderUnder(output)).Single(l => (string?)l["kind"] == "test");
        return (double)test["accuracy"]!;
    }

    [SklearnDataFact("breast_cancer.csv")]
    public void Mlp_reaches_093_test_accuracy_on_breast_cancer()
    {
        // 569 rows, 30 features, 2 classes; 114 test rows.
        double accuracy = TestAccuracy("breast_cancer.csv", "--hidden", "32", "--epochs", "30", "--batch-size", "16");
        Assert.True(accuracy >= 0.93, $"test accuracy {accuracy:F4} on breast cancer");
    }

    [SklearnDataFact("wine_data.csv")]
    public void Mlp_reaches_090_test_accuracy_on_wine()
    {
        // 178 rows, 13 features, 3 classes; 36 test rows.
        double accuracy = TestAccuracy("wine_data.csv", "--hidden", "32", "--epochs", "30", "--batch-size", "16");
        Assert.True(accuracy >= 0.9, $"test accuracy {accuracy:F4} on wine");
    }
}
