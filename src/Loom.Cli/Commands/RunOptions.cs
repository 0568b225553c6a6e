using System.CommandLine;
using Loom.Models;
using Loom.Train;

namespace Loom.Cli.Commands;

/// <summary>What `loom eval` and `loom predict` share: the run folder, other data, and the thread count.</summary>
internal sealed class RunOptions(string dataDescription)
{
    public Argument<string> Run { get; } = new("run") { Description = "a run folder written by loom train" };
    public Option<string?> Data { get; } = new("--data") { Description = dataDescription };
    public Option<int?> Threads { get; } = new("--threads") { Description = "threads for kernels (default: the run's)" };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Run);
        command.Options.Add(Data);
        command.Options.Add(Threads);
    }

    /// <summary>The trained run, with the data and thread count asked for.</summary>
    public TrainedRun Load(ParseResult parse, bool best = false)
    {
        if (parse.GetValue(Threads) is < 1 and var threads) throw new UserErrorException($"--threads must be at least 1, got {threads}");
        var folder = new RunFolder(TrainCommand.ExistingRun(parse.GetValue(Run)!));
        return Pipeline.Load(folder, parse.GetValue(Data), best, parse.GetValue(Threads));
    }
}
