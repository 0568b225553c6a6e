using Spectre.Console;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // commands set Loom.Threads and seed the default generator

namespace Loom.Cli.Tests;

/// <summary>What one in-process run of the `loom` command printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Output)
{
    public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    public string[] ErrorLines => Lines.Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();

    public override string ToString() => $"exit code {ExitCode}, output:\n{Output}";
}

/// <summary>Runs <see cref="LoomCommand.Run"/> in-process on a non-interactive, colourless console that writes to a string.</summary>
internal static class CliRunner
{
    public static CliResult Run(params string[] args)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
            Ansi = AnsiSupport.No,
        });
        int code = LoomCommand.Run(args, console);
        return new CliResult(code, writer.ToString());
    }

    /// <summary>Runs and asserts exit code 0, showing the output when it is not.</summary>
    public static CliResult Succeed(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, $"loom {string.Join(' ', args)} failed: {result}");
        return result;
    }

    /// <summary>The run folder a `loom train --output ROOT` created (the only folder under ROOT).</summary>
    public static string RunFolderUnder(string root) => Assert.Single(Directory.GetDirectories(root));
}
