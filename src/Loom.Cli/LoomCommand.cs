using Loom.Cli.Commands;

namespace Loom.Cli;

/// <summary>The root of the `loom` command line; each subcommand lives in Commands/.</summary>
public static class LoomCommand
{
    public static RootCommand Build(IAnsiConsole console) => new("Loom: train, evaluate and benchmark neural networks in pure .NET")
    {
        TrainCommand.Build(console),
        LaunchCommand.Build(console),
        EvalCommand.Build(console),
        PredictCommand.Build(console),
        CrossValidateCommand.Build(console),
        GenerateCommand.Build(console),
        SummarizeCommand.Build(console),
        ListenCommand.Build(console),
        TranslateCommand.Build(console),
        DetectCommand.Build(console),
        FacesCommand.Build(console),
        SpeechTranslateCommand.Build(console),
        DatasetsCommand.Build(console),
        QuantizeCommand.Build(console),
        DistillCommand.Build(console),
        EnsembleCommand.Build(console),
        ExplainCommand.Build(console),
        ActivationsCommand.Build(console),
        PruneCommand.Build(console),
        ClusterCommand.Build(console),
        CompressReportCommand.Build(console),
        BenchCommand.Build(console),
        ExportCommand.Build(console),
        ImportCommand.Build(console),
    };

    /// <summary>
    /// Parses and runs. Results go to <paramref name="console"/> (standard output); a user error becomes one line on
    /// <paramref name="errors"/> (standard error, so that it is seen even when the output is piped to a file or another
    /// program) and exit code 1, never a stack trace.
    /// </summary>
    public static int Run(string[] args, IAnsiConsole? console = null, IAnsiConsole? errors = null)
    {
        console ??= AnsiConsole.Console;
        errors ??= AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        try
        {
            var parse = Build(console).Parse(args);
            if (parse.Errors.Count > 0)
            {
                // The whole path of a sub-command (loom faces verify), from the root down.
                var names = new List<string>();
                for (System.CommandLine.Parsing.SymbolResult? r = parse.CommandResult; r is System.CommandLine.Parsing.CommandResult c && c.Command is not RootCommand; r = r.Parent) names.Insert(0, c.Command.Name);
                var command = string.Join(' ', ["loom", .. names]);
                WriteError(errors, string.Join("; ", parse.Errors.Select(e => Readable(e.Message.TrimEnd('.'))).Distinct()) + $"; run {command} --help for the options");
                return 1;
            }
            WarnOfOversubscription(parse, errors);
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is UserErrorException or Train.TrainingDivergedException or Nn.StateDictMismatchException or ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            WriteError(errors, e.Message);
            return 1;
        }
    }

    private static readonly System.Text.RegularExpressions.Regex CannotParse =
        new(@"^Cannot parse argument '(?<value>.*)' for (option|argument) '(?<name>.*)' as expected type '(?:System\.Nullable`1\[)?System\.(?<type>\w+)\]?'$");

    /// <summary>
    /// System.CommandLine's "Cannot parse argument '-1' for option '--seed' as expected type 'System.UInt64'" in the
    /// words task options use ("--hidden expects a whole number, got 'wide'"): a .NET type name tells a user nothing
    /// about what to type instead.
    /// </summary>
    private static string Readable(string message)
    {
        var m = CannotParse.Match(message);
        if (!m.Success) return message;
        string? expected = m.Groups["type"].Value switch
        {
            "Int32" => $"a whole number from {int.MinValue} to {int.MaxValue}",
            "Int64" => $"a whole number from {long.MinValue} to {long.MaxValue}",
            "UInt64" => $"a whole number from 0 to {ulong.MaxValue}",
            "Double" or "Single" => "a number (such as 0.5 or 1e-3)",
            _ => null,
        };
        return expected is null ? message : $"{m.Groups["name"].Value} expects {expected}, got '{m.Groups["value"].Value}'";
    }

    /// <summary>
    /// A --threads far above the cores this process may use is taken, as torch.set_num_threads takes it, but said on
    /// standard error: the extra threads take turns on the cores, which is slower and easy to miss (--threads 1000 ran
    /// without a word). Up to twice the cores stays quiet: a rank that loom launch binds to one core runs the config's
    /// --threads 2, and a script from a bigger machine would otherwise warn on every command. The value is read as
    /// given, before any command's own checks.
    /// </summary>
    private static void WarnOfOversubscription(ParseResult parse, IAnsiConsole errors)
    {
        var given = parse.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>()
            .FirstOrDefault(o => o.Option.Name == "--threads" && !o.Implicit && o.Tokens.Count == 1);
        if (given is null || !int.TryParse(given.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int threads)) return;
        int cores = Environment.ProcessorCount;
        if (threads > 2 * cores)
            errors.WriteOneLine($"warning: --threads {threads} is more than the {cores} core{(cores == 1 ? "" : "s")} this process can use; the extra threads take turns on them (usually slower)");
    }

    /// <summary>
    /// "error: message" as one line whatever the console's width or the message: Spectre wraps at 80 columns when the
    /// output is redirected, and a message of several lines (a state-dict mismatch lists its keys line by line) is
    /// joined, because an error split over lines is hard to grep in a log.
    /// </summary>
    private static void WriteError(IAnsiConsole errors, string message)
    {
        var lines = message.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var oneLine = string.Concat(lines.Select((l, i) => i == 0 ? l : (lines[i - 1].EndsWith(':') ? " " : "; ") + l));
        errors.Markup("[red]error:[/] ");
        errors.WriteOneLine(oneLine);
    }
}
