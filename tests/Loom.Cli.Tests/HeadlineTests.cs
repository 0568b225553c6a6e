namespace Loom.Cli.Tests;

/// <summary>The figure the README leads with: `loom train` with no options, end to end.</summary>
public sealed class HeadlineTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    [Trait("Category", "Slow")]
    public void The_default_train_command_reaches_97_percent_on_the_held_out_digits()
    {
        CliRunner.Succeed("train", "--output", _temp.Path);
        var folder = CliRunner.RunFolderUnder(_temp.Path);
        Assert.EndsWith("-digits-cnn", folder);
        var test = TestData.Metrics(folder).Single(l => (string?)l["kind"] == "test");
        Assert.Equal(2000, (int)test["samples"]!);
        double accuracy = (double)test["accuracy"]!;
        Assert.True(accuracy >= 0.97, $"the default run reached {accuracy:P2} test accuracy; the README promises about 98 %");
    }
}
