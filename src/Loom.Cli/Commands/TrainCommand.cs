using Loom.Distributed;

namespace Loom.Cli.Commands;

/// <summary>`loom train`: train the task's model on --data, with progress, a test-metrics table and a run folder.</summary>
internal static class TrainCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var options = new TrainingOptions();
        var resume = new Option<string?>("--resume") { Description = "continue the run in this run folder from its last checkpoint (with more --epochs if given)" };
        var distributed = new Option<bool>("--distributed")
        {
            Description = "train data-parallel as one rank of an MPI job (mpirun -np N loom train … --distributed, or loom launch -n N -- train …); --batch-size is the global batch",
        };
        var syncBatchNorm = new Option<bool>("--sync-batchnorm")
        {
            Description = "with --distributed: batch norm normalises over the global batch, all ranks' samples together (SyncBatchNorm), instead of each rank's share",
        };
        var command = options.Command("train", "Train a model (default: a small CNN on the built-in digits) and write a run folder", resume, distributed, syncBatchNorm);
        command.SetAction(parse =>
        {
            if (parse.GetValue(syncBatchNorm) && !parse.GetValue(distributed))
                throw new UserErrorException("--sync-batchnorm synchronises batch norm across the ranks of a --distributed run; add --distributed (under mpirun or loom launch)");
            if (parse.GetValue(distributed))
            {
                if (!Mpi.LaunchedByMpirun)
                    throw new UserErrorException("--distributed: this process was not started by mpirun; run mpirun -np N loom train … --distributed, or loom launch -n N -- train …");
                var world = Mpi.Initialize();
                int code = Mpi.RunOrAbort(() => Train(parse, world.Rank == 0 ? console : Silent(), world));
                Mpi.Shutdown();
                return code;
            }
            return Train(parse, console, null);
        });
        return command;

        int Train(ParseResult parse, IAnsiConsole console, Communicator? world)
        {
            if (parse.GetValue(resume) is { } runPath)
            {
                var folder = new RunFolder(RunOptions.ExistingRun(runPath));
                var saved = Pipeline.ReadConfig(folder);
                // Trained on without its teacher, a distilled run would go on as another recipe than the one it started.
                if (saved.Ensemble is not null) throw new UserErrorException($"{folder.Path} is an ensemble (loom ensemble): it has nothing to train; resume its members, or distil it with loom distill --teacher {folder.Path}");
                if (saved.Distillation is not null) throw new UserErrorException($"{folder.Path} is a loom distill run; continue it with loom distill --resume {folder.Path}");
                // Synchronised and per-rank statistics leave the same state dict, so a resume may turn it on; a run
                // started with it keeps it (a resume on one plain process has nothing to synchronise).
                var config = options.ForResume(parse, saved) with { SyncBatchNorm = saved.SyncBatchNorm || parse.GetValue(syncBatchNorm) };
                if (TrainingOptions.ScheduleChangeNote(saved, config) is { } note) console.WriteOneLine(note);
                return Run(console, config, folder, resume: true, world);
            }
            // Resolved here, so the run folder is named after the model the data chose.
            var fresh = options.Resolve(parse, c => c with { SyncBatchNorm = parse.GetValue(syncBatchNorm) }).Config;
            if (world is { Rank: > 0 }) return Run(console, fresh, new RunFolder(world.BroadcastString(null)), resume: false, world);
            return options.InNewRunFolder(parse, $"{Path.GetFileNameWithoutExtension(fresh.Data)}-{fresh.Model}",
                folder => Run(console, fresh, folder, resume: false, world, announce: true), folder => File.Exists(folder.CheckpointPath));
        }
    }

    // Ranks other than 0 train in silence: progress, tables and the run folder are rank 0's.
    private static IAnsiConsole Silent() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });

    /// <summary>"N steps" or, for a resumed run, where it continued from: a resume that ignored its checkpoint shows.</summary>
    private static string StepsLine(FitResult fit) => fit.Continued
        ? $"{fit.Steps} steps in this run, resumed at epoch {fit.StartEpoch + 1} batch {fit.StartBatch} (step {fit.StartStep})"
        : $"{fit.Steps} steps";

    private static int Run(IAnsiConsole console, TrainingConfig config, RunFolder folder, bool resume, Communicator? world, bool announce = false)
    {
        // Rank 0 made the new run folder; the other ranks learn its path here.
        if (announce && world is not null) world.BroadcastString(folder.Path);
        var progress = new ProgressDisplay(console, config.Epochs);
        var setup = Pipeline.Prepare(config, folder, world is { Rank: > 0 } ? [] : [progress], world: world);
        progress.Throughput = setup.Data.Throughput;
        console.MarkupLine($"[bold]loom train[/] {Markup.Escape(setup.Config.Model!)} on {Markup.Escape(setup.Data.Description)}");
        console.MarkupLine($"{setup.Data.Train.Count} training samples ({setup.TrainLoader.Dataset.Count} used for training), {setup.Data.Test.Count} test samples, " +
            $"{setup.Model.ParameterCount():N0} parameters, {(world is null ? "" : $"{world.Size} ranks × ")}{config.Threads} thread{(config.Threads == 1 ? "" : "s")}{(resume ? ", resuming" : "")}");
        using var onSignal = new StopOnSignals(setup.Trainer);
        var result = progress.Run(() => Pipeline.Train(setup, folder, resume));
        if (world is { Rank: > 0 }) return result.Fit.Interrupted ? 130 : 0; // rank 0 reports
        if (result.Test is null)
        {
            var at = setup.Trainer;
            console.MarkupLine($"[yellow]stopped ({Markup.Escape(result.Fit.StopReason)})[/] at epoch {at.Epoch + 1} batch {at.BatchInEpoch} (step {at.GlobalStep}); " +
                $"{StepsLine(result.Fit)}; checkpoint saved. Continue with: loom train --resume {Markup.Escape(folder.Path)}");
            return result.Fit.StopReason == "terminated" ? 143 : 130; // 128 + the signal, as shells report it
        }
        var table = new Table().AddColumn("test metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("loss", $"{result.Test.Loss:F4}");
        foreach (var (k, v) in result.Test.Metrics) table.AddRow(k, $"{v:F4}");
        table.AddRow("samples", result.Test.Samples.ToString());
        console.Write(table);
        console.MarkupLine($"stopped: {Markup.Escape(result.Fit.StopReason)}; {StepsLine(result.Fit)}; training took {result.Fit.TrainingTime.TotalSeconds:F1} s");
        console.MarkupLine($"run folder: [link]{Markup.Escape(folder.Path)}[/]");
        return 0;
    }
}
