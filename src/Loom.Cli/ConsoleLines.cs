namespace Loom.Cli;

internal static class ConsoleLines
{
    /// <summary>
    /// Writes <paramref name="text"/> as one line whatever the console's width: Spectre wraps at the 80 columns it
    /// assumes for redirected output, and a message split over lines is hard to read and to grep in a log.
    /// </summary>
    public static void WriteOneLine(this IAnsiConsole console, string text)
    {
        console.Profile.Out.Writer.WriteLine(text);
        console.Profile.Out.Writer.Flush();
    }
}
