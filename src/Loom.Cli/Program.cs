using Loom.Cli;
using Spectre.Console;

// Output to a file, a pipe or CI gets plain text: Spectre colours (and writes hyperlink escapes) whenever TERM is set,
// which garbles logs.
// Spectre also wraps redirected output at the 80 columns it assumes: a log line must stay one line, so the width is
// made wide enough for any line Loom prints (tables are sized by their content, not by this width).
var console = Console.IsOutputRedirected
    ? AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No })
    : AnsiConsole.Console;
if (Console.IsOutputRedirected) console.Profile.Width = 4096;
return LoomCommand.Run(args, console);
