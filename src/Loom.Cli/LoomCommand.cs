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
        EvalCommand.Build(console),
        PredictCommand.Build(console),
        CrossValidateCommand.Build(console),
        GenerateCommand.Build(console),
        DatasetsCommand.Build(console),
        BenchCommand.Build(console),
    };

    /// <summary>Parses and runs; user errors become one red line and exit code 1, never a stack trace.</summary>
    public static int Run(string[] args, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        try
        {
            var parse = Build(console).Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors) WriteError(console, error.Message);
                console.MarkupLine("run [bold]loom --help[/] or [bold]loom COMMAND --help[/] for the options");
                return 1;
            }
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is UserErrorException or Train.TrainingDivergedException or Nn.StateDictMismatchException or ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            WriteError(console, e.Message);
            return 1;
        }
    }

    /// <summary>
    /// "error: message" as one line whatever the console's width: Spectre wraps at 80 columns when the output is
    /// redirected, and an error split over lines is hard to grep in a log.
    /// </summary>
    private static void WriteError(IAnsiConsole console, string message)
    {
        console.Markup("[red]error:[/] ");
        console.Profile.Out.Writer.WriteLine(message);
        console.Profile.Out.Writer.Flush();
    }
}
