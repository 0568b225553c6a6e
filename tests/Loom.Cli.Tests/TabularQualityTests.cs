namespace Loom.Cli.Tests;

/// <summary>
/// Skips when one of scikit-learn's bundled data files is not installed, unless LOOM_REQUIRE_DATASETS is set (as on CI,
/// which installs python3-sklearn): then the test runs and fails on the missing file.
/// </summary>
public sealed class SklearnDataFactAttribute : FactAttribute
{
    public const string Folder = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    public SklearnDataFactAttribute(string file)
    {
        if (!File.Exists(Path.Combine(Folder, file)) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LOOM_REQUIRE_DATASETS")))
            Skip = $"{Path.Combine(Folder, file)} is not installed (apt install python3-sklearn); set LOOM_REQUIRE_DATASETS=1 to fail instead";
    }
}

/// <summary>The MLP trained through `loom train` on real tabular data must reach the accuracy such models are known to reach.</summary>
public sealed class TabularQualityTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private double TestAccuracy(string file, params string[] options)
    {
        var source = Path.Combine(SklearnDataFactAttribute.Folder, file);
        Assert.True(File.Exists(source), $"{source} is missing: install python3-sklearn (LOOM_REQUIRE_DATASETS is set)");
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
