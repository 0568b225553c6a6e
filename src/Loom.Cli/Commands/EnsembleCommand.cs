namespace Loom.Cli.Commands;

/// <summary>
/// `loom ensemble RUN RUN… [--output DIR]`: a run folder whose model is the average, in probability space, of trained
/// classifiers of the same data (<see cref="Ensemble"/>). Its config.json names the members and the SHA-256 of their
/// weights; it holds no weights of its own. `loom eval`, `predict`, `distill --teacher` and `compress-report` take it
/// like any run (its parameters are the sum of its members').
/// </summary>
internal static class EnsembleCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var runs = new Argument<string[]>("runs") { Description = "the member runs: classifiers trained on the same data (for instance the same recipe with other --seed values)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output") { Description = "folder under which the ensemble's run folder is created", DefaultValueFactory = _ => "runs" };
        var threads = new Option<int?>("--threads") { Description = "threads for kernels (default: the first member's)" };
        var outOfFold = new Option<bool>("--out-of-fold")
        {
            Description = "for each sample, average only the members that did not train on it (cross-fitted members: loom train --split-seed S --fold k/K); each member's training split is recorded and checked on every load",
        };
        var command = new Command("ensemble", "Average trained classifiers of the same data (mean of their softmax outputs) into an ensemble run folder, and evaluate it")
        {
            runs, output, threads, outOfFold,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) is < 1 and var t) throw new UserErrorException($"--threads must be at least 1, got {t}");
            var members = parse.GetValue(runs)!.Select(r => new RunFolder(RunOptions.ExistingRun(r))).ToList();
            var first = Pipeline.ReadConfig(members[0]);
            var root = parse.GetValue(output)!;
            bool rootExisted = Directory.Exists(root);
            var folder = RunFolder.CreateUnder(root, $"{Path.GetFileNameWithoutExtension(first.Data)}-{first.Model}-ensemble{members.Count}");
            TrainedRun run;
            try
            {
                run = Ensembles.Create(members, folder, parse.GetValue(threads), parse.GetValue(outOfFold));
            }
            catch
            {
                // Refused members leave nothing behind.
                Directory.Delete(folder.Path, recursive: true);
                if (!rootExisted && !Directory.EnumerateFileSystemEntries(root).Any()) Directory.Delete(root);
                throw;
            }
            var test = run.Evaluate();
            console.WriteOneLine($"ensemble of {members.Count} runs ({run.Model.ParameterCount():N0} parameters){(parse.GetValue(outOfFold) ? ", out of fold" : "")} on {run.Data.Description}");
            var table = new Table().AddColumn("test metric").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("loss", $"{test.Loss:F4}");
            foreach (var (k, v) in test.Metrics) table.AddRow(k, $"{v:F4}");
            console.Write(table);
            console.MarkupLine($"run folder: [link]{Markup.Escape(folder.Path)}[/]");
            return 0;
        });
        return command;
    }
}
