using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Loom.Packaging.Tests;

/// <summary>
/// What a .NET developer does with Loom, end to end: pack the libraries, create a fresh console project, add the
/// package the README names from the packed folder, paste the README's "From C#" code and run it. Slow (pack,
/// restore, build: about a minute), hence one test.
/// </summary>
public partial class ReadmeSnippetTests
{
    private static readonly string[] Libraries = ["Loom.Core", "Loom.Nn", "Loom.Data", "Loom.Train", "Loom.Models"];

    [Fact]
    [Trait("Duration", "about a minute")]
    public void The_readme_csharp_snippet_builds_and_runs_against_the_packed_packages()
    {
        var repo = RepositoryRoot();
        using var temp = new TempFolder();
        var feed = Path.Combine(temp.Path, "feed");

        // 1. The packages, as `dotnet pack` makes them (the libraries were built with this test; the tool, packed per
        //    platform, is not needed here).
        string configuration = typeof(ReadmeSnippetTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        foreach (var library in Libraries)
            Dotnet(repo, "pack", Path.Combine(repo, "src", library, library + ".csproj"), "-c", configuration, "--no-build", "-o", feed);
        foreach (var library in Libraries) CheckPackage(feed, library, Libraries);

        // 2. A fresh console project whose only way to Loom is the packed folder. Its own package folder keeps these
        //    packages out of the machine's cache (where a stale 0.1.0 could hide a broken one); everything else
        //    comes from that cache, so no network is needed.
        var app = Path.Combine(temp.Path, "MyModel");
        Dotnet(temp.Path, "new", "console", "-o", app, "--no-restore", "--no-update-check");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(temp.Path, "packages")}" />
              </config>
              <packageSources>
                <clear />
                <add key="loom" value="{feed}" />
                <add key="machine-cache" value="{MachinePackageCache(temp.Path)}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="loom"><package pattern="Loom.*" /></packageSource>
                <packageSource key="machine-cache"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        var package = ReadmePackage(repo);
        Dotnet(app, "add", "package", package);

        // 3. The README's code, as it stands, run.
        File.WriteAllText(Path.Combine(app, "Program.cs"), ReadmeSnippet(repo));
        var output = Dotnet(app, "run", "-c", "Release");
        var loss = LossLine().Match(output);
        Assert.True(loss.Success, $"the snippet printed no loss:\n{output}");
        double value = double.Parse(loss.Groups[1].Value, CultureInfo.InvariantCulture);
        // Cross-entropy of 10 classes from a freshly initialised network: near ln 10 = 2.30.
        Assert.InRange(value, 1.5, 4.0);
    }

    /// <summary>The code block of the README's "From C#" section (the first ```csharp block after that heading).</summary>
    private static string ReadmeSnippet(string repo)
    {
        var readme = File.ReadAllText(Path.Combine(repo, "README.md"));
        int section = readme.IndexOf("### From C#", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no \"### From C#\" section");
        var block = CSharpBlock().Match(readme, section);
        Assert.True(block.Success, "the \"From C#\" section has no ```csharp code block");
        return block.Groups[1].Value;
    }

    /// <summary>The package the README tells the reader to add (`dotnet add package NAME` in the "From C#" section).</summary>
    private static string ReadmePackage(string repo)
    {
        var readme = File.ReadAllText(Path.Combine(repo, "README.md"));
        var add = AddPackage().Match(readme, readme.IndexOf("### From C#", StringComparison.Ordinal));
        Assert.True(add.Success, "the \"From C#\" section does not say which package to add");
        Assert.Contains(add.Groups[1].Value, Libraries);
        return add.Groups[1].Value;
    }

    /// <summary>The package has what a package page shows (licence, readme, description) and depends on Loom packages of its own version.</summary>
    private static void CheckPackage(string feed, string id, string[] ours)
    {
        var nupkg = Directory.GetFiles(feed, id + ".*.nupkg").Single(f => Regex.IsMatch(Path.GetFileName(f), $@"^{Regex.Escape(id)}\.\d"));
        Assert.True(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")), $"no symbol package beside {nupkg}");
        using var zip = ZipFile.OpenRead(nupkg);
        Assert.NotNull(zip.GetEntry("README.md"));
        Assert.NotNull(zip.GetEntry($"lib/net10.0/{id}.dll"));
        using var nuspecStream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        Assert.Equal(id, Field("id"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("README.md", Field("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")), $"{id} has no description");
        var version = Field("version");
        foreach (var dependency in metadata.Descendants().Where(e => e.Name.LocalName == "dependency"))
        {
            if (ours.Contains(dependency.Attribute("id")!.Value))
                Assert.Equal(version, dependency.Attribute("version")!.Value);
        }
    }

    /// <summary>Where this machine keeps restored packages; its layout serves as a local package source.</summary>
    private static string MachinePackageCache(string workingDirectory)
    {
        var listed = Dotnet(workingDirectory, "nuget", "locals", "global-packages", "--list");
        var path = listed[(listed.IndexOf(':') + 1)..].Trim();
        Assert.True(Directory.Exists(path), $"NuGet's global packages folder '{path}' does not exist");
        return path;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Loom.sln"))) return dir.FullName;
        throw new InvalidOperationException("Loom.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs `dotnet ARGS` in <paramref name="workingDirectory"/>, asserts exit code 0, returns what it printed.</summary>
    private static string Dotnet(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} did not finish in 8 minutes");
        }
        var output = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output}");
        return output;
    }

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"dotnet add package (\S+)")]
    private static partial Regex AddPackage();

    [GeneratedRegex(@"^loss (\S+)$", RegexOptions.Multiline)]
    private static partial Regex LossLine();
}

/// <summary>A folder under the temp directory, deleted with everything in it on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "loom-packaging-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
