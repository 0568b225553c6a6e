using Xunit.Sdk;

namespace Loom.Data.Tests.Builtin;

/// <summary>The skip-or-fail rule of tests over installed data (Loom.Testing's InstalledData).</summary>
public class InstalledDataTests
{
    [Fact]
    public void Missing_data_skips_with_the_install_hint_unless_required_and_then_fails()
    {
        using var dir = new TempDir();
        var missing = new InstalledData("Some data", "apt-get install some-data", dir.File("absent.gz"), dir.Path);
        // LOOM_HIDE_DATASETS (to try the skip path on a machine with the data) hides the existing folder too.
        Assert.Equal(InstalledData.Hidden ? new[] { dir.File("absent.gz"), dir.Path } : [dir.File("absent.gz")], missing.Missing);
        var reason = missing.SkipReason(required: false);
        Assert.NotNull(reason);
        Assert.Contains("absent.gz", reason);
        Assert.Contains("apt-get install some-data", reason);
        Assert.Contains("LOOM_REQUIRE_DATASETS=1", reason);
        Assert.Null(missing.SkipReason(required: true));
        var e = Assert.Throws<XunitException>(missing.Require);
        Assert.Contains("apt-get install some-data", e.Message);

        File.WriteAllText(dir.File("absent.gz"), "");
        if (InstalledData.Hidden)
        {
            Assert.Equal(2, missing.Missing.Count);
            Assert.Throws<XunitException>(missing.Require);
        }
        else
        {
            Assert.Empty(missing.Missing);
            Assert.Null(missing.SkipReason(required: false));
            missing.Require();
        }
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("yes", true)]
    public void The_require_variable_is_on_for_any_value_but_empty_0_and_false(string? value, bool on) =>
        Assert.Equal(on, InstalledData.IsSet(value));
}
