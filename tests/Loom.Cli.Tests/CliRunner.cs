using Spectre.Console;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // commands set Loom.Threads and seed the default generator

namespace Loom.Cli.Tests;

/// <summary>What one in-process run of the `loom` command printed on standard output and standard error, and returned.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Errors)
{
    public string[] Lines => SplitLines(Output);

    /// <summary>Every line written to standard error.</summary>
    public string[] ErrorLines => SplitLines(Errors);

    private static string[] SplitLines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    public override string ToString() => $"exit code {ExitCode}, output:\n{Output}\nstandard error:\n{Errors}";
}

/// <summary>Runs <see cref="LoomCommand.Run"/> in-process on non-interactive, colourless consoles that write to strings.</summary>
internal static class CliRunner
{
    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int code = LoomCommand.Run(args, Console(output), Console(errors));
        return new CliResult(code, output.ToString(), errors.ToString());
    }

    private static IAnsiConsole Console(StringWriter writer) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Interactive = InteractionSupport.No,
        Ansi = AnsiSupport.No,
    });

    /// <summary>Runs and asserts exit code 0 and nothing on standard error, showing the output when it is not.</summary>
    public static CliResult Succeed(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0 && result.Errors.Length == 0, $"loom {string.Join(' ', args)} failed: {result}");
        return result;
    }

    /// <summary>
    /// Runs and asserts a user error: exit code 1, exactly one line on standard error, "error: " followed by a message
    /// holding every fragment, and no stack trace or exception name anywhere. Returns the message.
    /// </summary>
    public static string Fail(string[] args, params string[] fragments) => AssertOneErrorLine(Run(args), fragments);

    public static string AssertOneErrorLine(CliResult result, params string[] fragments)
    {
        Assert.True(result.ExitCode == 1, $"expected exit code 1: {result}");
        var error = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: ", error);
        foreach (var f in fragments) Assert.True(error.Contains(f, StringComparison.Ordinal), $"the error line lacks '{f}': {error}");
        foreach (var text in new[] { result.Output, result.Errors })
        {
            Assert.DoesNotContain("   at ", text);
            Assert.DoesNotContain("Exception", text);
        }
        return error["error: ".Length..];
    }

    /// <summary>The run folder a `loom train --output ROOT` created (the only folder under ROOT).</summary>
    public static string RunFolderUnder(string root) => Assert.Single(Directory.GetDirectories(root));
}
