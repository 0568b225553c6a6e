using Loom.Cli;

// Output to a file, a pipe or CI gets plain text: Spectre colours (and writes hyperlink escapes) whenever TERM is set,
// which garbles logs.
// Spectre also wraps redirected output at the 80 columns it assumes: a log line must stay one line, so the width is
// made wide enough for any line Loom prints (tables are sized by their content, not by this width).
static IAnsiConsole For(TextWriter writer, bool redirected)
{
    if (!redirected) return AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
    var console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
    });
    console.Profile.Width = 4096;
    return console;
}

var output = Console.IsOutputRedirected ? For(Console.Out, redirected: true) : AnsiConsole.Console;
return LoomCommand.Run(args, output, For(Console.Error, Console.IsErrorRedirected));
