using Loom.Cli;
using Spectre.Console;

// Output to a file, a pipe or CI gets plain text: Spectre colours (and writes hyperlink escapes) whenever TERM is set,
// which garbles logs.
var console = Console.IsOutputRedirected
    ? AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No })
    : AnsiConsole.Console;
return LoomCommand.Run(args, console);
