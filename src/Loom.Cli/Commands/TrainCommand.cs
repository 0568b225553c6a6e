using System.CommandLine;
using System.Runtime.InteropServices;
using Loom.Models;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>`loom train`: train the task's model on --data, with progress, a test-metrics table and a run folder.</summary>
internal static class TrainCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var options = new TrainingOptions();
        var output = new Option<string>("--output") { Description = "folder under which the run folder is created", DefaultValueFactory = _ => "runs" };
        var resume = new Option<string?>("--resume") { Description = "continue the run in this run folder from its last checkpoint" };
        var command = new Command("train", "Train a model (default: a small CNN on the built-in digits) and write a run folder");
        foreach (var o in options.All) command.Options.Add(o);
        command.Options.Add(output);
        command.Options.Add(resume);
        command.SetAction(parse =>
        {
            RunFolder folder;
            TrainingConfig config;
            bool resuming = parse.GetValue(resume) is not null;
            if (parse.GetValue(resume) is { } runPath)
            {
                folder = new RunFolder(ExistingRun(runPath));
                config = TrainingConfig.FromJson(File.ReadAllText(folder.ConfigPath), folder.ConfigPath);
            }
            else
            {
                // Resolved here, so the run folder is named after the model the data chose.
                config = Tasks.Resolve(options.Read(parse)).Config;
                folder = RunFolder.CreateUnder(parse.GetValue(output)!, $"{Path.GetFileNameWithoutExtension(config.Data)}-{config.Model}");
            }
            return Run(console, config, folder, resuming);
        });
        return command;
    }

    /// <summary>"N steps" or, for a resumed run, where it continued from: a resume that ignored its checkpoint shows.</summary>
    private static string StepsLine(FitResult fit) => fit.Continued
        ? $"{fit.Steps} steps in this run, resumed at epoch {fit.StartEpoch + 1} batch {fit.StartBatch} (step {fit.StartStep})"
        : $"{fit.Steps} steps";

    internal static string ExistingRun(string path)
    {
        if (!Directory.Exists(path)) throw new UserErrorException($"run folder '{path}' does not exist");
        if (!File.Exists(Path.Combine(path, "config.json"))) throw new UserErrorException($"'{path}' is not a Loom run folder (no config.json)");
        return path;
    }

    private static int Run(IAnsiConsole console, TrainingConfig config, RunFolder folder, bool resume)
    {
        var progress = new ProgressDisplay(console, config.Epochs);
        var setup = Pipeline.Prepare(config, folder, [progress]);
        progress.Throughput = setup.Data.Throughput;
        console.MarkupLine($"[bold]loom train[/] {Markup.Escape(setup.Config.Model!)} on {Markup.Escape(setup.Data.Description)}");
        console.MarkupLine($"{setup.Data.Train.Count} training samples ({setup.TrainLoader.Dataset.Count} used for training), {setup.Data.Test.Count} test samples, " +
            $"{setup.Model.ParameterCount():N0} parameters, {config.Threads} threads{(resume ? ", resuming" : "")}");
        // Ctrl-C (SIGINT) and SIGTERM, which kill, Docker, systemd and Slurm send, both stop after the current batch
        // and write the checkpoint; without a handler .NET would end the process on SIGTERM with the epoch's work lost.
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            setup.Trainer.RequestStop(context.Signal == PosixSignal.SIGTERM ? "terminated" : "interrupted");
        }
        var result = progress.Run(() => Pipeline.Train(setup, folder, resume));
        if (result.Test is null)
        {
            console.MarkupLine($"[yellow]stopped ({Markup.Escape(result.Fit.StopReason)})[/]; {StepsLine(result.Fit)}; checkpoint saved. Continue with: loom train --resume {Markup.Escape(folder.Path)}");
            return result.Fit.StopReason == "terminated" ? 143 : 130; // 128 + the signal, as shells report it
        }
        var table = new Table().AddColumn("test metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("loss", $"{result.Test.Loss:F4}");
        foreach (var (k, v) in result.Test.Metrics) table.AddRow(k, $"{v:F4}");
        table.AddRow("samples", result.Test.Samples.ToString());
        console.Write(table);
        console.MarkupLine($"stopped: {Markup.Escape(result.Fit.StopReason)}; {StepsLine(result.Fit)}; training took {result.Fit.Epochs.Sum(e => e.Duration.TotalSeconds):F1} s");
        console.MarkupLine($"run folder: [link]{Markup.Escape(folder.Path)}[/]");
        return 0;
    }
}
