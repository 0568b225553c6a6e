using System.CommandLine;
using Loom.Cli.Commands;
using Spectre.Console;

namespace Loom.Cli;

/// <summary>The root of the `loom` command line; each subcommand lives in Commands/.</summary>
public static class LoomCommand
{
    public static RootCommand Build(IAnsiConsole console) => new("Loom: train, evaluate and benchmark neural networks in pure .NET")
    {
        TrainCommand.Build(console),
        BenchCommand.Build(console),
    };

    /// <summary>Parses and runs; user errors become one red line and exit code 1, never a stack trace.</summary>
    public static int Run(string[] args, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        try
        {
            return Build(console).Parse(args).Invoke();
        }
        catch (Exception e) when (e is UserErrorException or ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
    }
}
