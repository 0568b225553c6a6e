using Xunit;
using Xunit.Sdk;

namespace Loom.Testing;

/// <summary>
/// Files that some tests need from the machine rather than from the repository: a Debian package's data set, say.
/// Such a test is marked with a subclass of <see cref="InstalledDataFactAttribute"/> and starts with
/// <see cref="Require"/>. While the files are missing it is reported as skipped, never as passed; with
/// <c>LOOM_REQUIRE_DATASETS=1</c> (as CI runs) it runs and fails instead, so a missing install cannot pass unseen.
/// </summary>
/// <remarks>
/// <c>LOOM_HIDE_DATASETS=1</c> makes every such file count as missing, to see the skip (or, with
/// <c>LOOM_REQUIRE_DATASETS=1</c>, the failure) on a machine that has the data.
/// </remarks>
public sealed class InstalledData
{
    public const string RequireVariable = "LOOM_REQUIRE_DATASETS";
    public const string HideVariable = "LOOM_HIDE_DATASETS";

    /// <param name="name">What the data is, for messages ("Fashion-MNIST").</param>
    /// <param name="install">How to install it ("apt-get install dataset-fashion-mnist").</param>
    /// <param name="paths">Files or folders that must all exist.</param>
    public InstalledData(string name, string install, params IEnumerable<string> paths)
    {
        Name = name;
        Install = install;
        Paths = [.. paths];
        if (Paths.Count == 0) throw new ArgumentException("InstalledData: name at least one path");
    }

    public string Name { get; }

    public string Install { get; }

    public IReadOnlyList<string> Paths { get; }

    /// <summary>Whether LOOM_REQUIRE_DATASETS asks for missing data to fail tests ("1", "true"…; unset, empty, "0" and "false" do not).</summary>
    public static bool Required => IsSet(Environment.GetEnvironmentVariable(RequireVariable));

    /// <summary>Whether LOOM_HIDE_DATASETS makes every path count as missing.</summary>
    public static bool Hidden => IsSet(Environment.GetEnvironmentVariable(HideVariable));

    public static bool IsSet(string? value) =>
        !string.IsNullOrWhiteSpace(value) && value.Trim() != "0" && !value.Trim().Equals("false", StringComparison.OrdinalIgnoreCase);

    /// <summary>The paths that do not exist (all of them under LOOM_HIDE_DATASETS).</summary>
    public IReadOnlyList<string> Missing => Hidden ? Paths : [.. Paths.Where(p => !File.Exists(p) && !Directory.Exists(p))];

    /// <summary>Why a test of this data is skipped: null when the data is installed or <paramref name="required"/>.</summary>
    public string? SkipReason(bool required) =>
        Missing.Count == 0 || required ? null
        : $"{Name} is not installed ({string.Join(", ", Missing)} missing; {Install}); set {RequireVariable}=1 to fail instead of skipping";

    /// <summary>Fails the test, saying what to install, when the data is missing; call it first in a test of the data.</summary>
    public void Require()
    {
        if (Missing.Count > 0)
            throw new XunitException($"{Name} is missing ({string.Join(", ", Missing)}) and {RequireVariable} is set: {Install}");
    }
}

/// <summary>
/// A [Fact] over installed data: skipped while <see cref="InstalledData"/> is missing, unless LOOM_REQUIRE_DATASETS
/// is set. xunit 2 has no skip from inside a running test, so the decision is made when tests are discovered.
/// </summary>
public abstract class InstalledDataFactAttribute : FactAttribute
{
    protected InstalledDataFactAttribute(InstalledData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Skip = data.SkipReason(InstalledData.Required);
    }
}
