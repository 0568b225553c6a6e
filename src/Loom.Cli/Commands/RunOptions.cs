namespace Loom.Cli.Commands;

/// <summary>What `loom eval` and `loom predict` share: the run folder, other data, the thread count, and loading the trained run.</summary>
internal sealed class RunOptions(IAnsiConsole console, string dataDescription)
{
    public Argument<string> Run { get; } = new("run") { Description = "a run folder written by loom train" };
    public Option<string?> Data { get; } = new("--data") { Description = dataDescription };
    public Option<int?> Threads { get; } = new("--threads") { Description = "threads for kernels (default: the run's)" };

    /// <summary>A command taking a run folder, --data, --threads and <paramref name="extra"/> options.</summary>
    public Command Command(string name, string description, params Option[] extra)
    {
        var command = new Command(name, description) { Run, Data, Threads };
        foreach (var o in extra) command.Options.Add(o);
        return command;
    }

    /// <summary>The run folder argument, which must be a folder.</summary>
    public RunFolder Folder(ParseResult parse) => new(ExistingRun(parse.GetValue(Run)!));

    /// <summary>The trained run, with the data and thread count asked for; prints the notes on how the data was read.</summary>
    /// <param name="data">The data, when given otherwise than by --data.</param>
    public TrainedRun Load(ParseResult parse, bool best = false, string? data = null)
    {
        if (parse.GetValue(Threads) is < 1 and var threads) throw new UserErrorException($"--threads must be at least 1, got {threads}");
        var run = Pipeline.Load(Folder(parse), data ?? parse.GetValue(Data), best, parse.GetValue(Threads));
        foreach (var note in run.Notes) console.WriteOneLine($"note: {note}");
        return run;
    }

    internal static string ExistingRun(string path)
    {
        if (!Directory.Exists(path)) throw new UserErrorException($"run folder '{path}' does not exist");
        if (!File.Exists(Path.Combine(path, "config.json"))) throw new UserErrorException($"'{path}' is not a Loom run folder (no config.json)");
        return path;
    }
}
