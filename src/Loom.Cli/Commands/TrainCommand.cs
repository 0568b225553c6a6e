using System.CommandLine;
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
        console.MarkupLine($"[bold]loom train[/] {Markup.Escape(setup.Config.Model!)} on {Markup.Escape(setup.Data.Description)}");
        console.MarkupLine($"{setup.Data.Train.Count} training samples ({setup.TrainLoader.Dataset.Count} used for training), {setup.Data.Test.Count} test samples, " +
            $"{setup.Model.ParameterCount():N0} parameters, {config.Threads} threads{(resume ? ", resuming" : "")}");
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            setup.Trainer.RequestStop("interrupted");
        };
        Console.CancelKeyPress += onCancel;
        RunResult result;
        try
        {
            result = progress.Run(() => Pipeline.Train(setup, folder, resume));
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (result.Test is null)
        {
            console.MarkupLine($"[yellow]stopped ({Markup.Escape(result.Fit.StopReason)})[/]; checkpoint saved. Continue with: loom train --resume {Markup.Escape(folder.Path)}");
            return 130;
        }
        var table = new Table().AddColumn("test metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("loss", $"{result.Test.Loss:F4}");
        foreach (var (k, v) in result.Test.Metrics) table.AddRow(k, $"{v:F4}");
        table.AddRow("samples", result.Test.Samples.ToString());
        console.Write(table);
        console.MarkupLine($"stopped: {Markup.Escape(result.Fit.StopReason)}; training took {result.Fit.Epochs.Sum(e => e.Duration.TotalSeconds):F1} s");
        console.MarkupLine($"run folder: [link]{Markup.Escape(folder.Path)}[/]");
        return 0;
    }
}
