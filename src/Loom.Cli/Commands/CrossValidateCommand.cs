namespace Loom.Cli.Commands;

/// <summary>`loom cv --folds K …`: K-fold cross-validation of a training recipe on the training split (stratified by class where there are classes), reporting each fold and mean ± std.</summary>
internal static class CrossValidateCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var folds = new Option<int>("--folds") { Description = "number of folds", DefaultValueFactory = _ => 5 };
        var options = new TrainingOptions();
        var command = options.Command("cv", "K-fold cross-validation of a model on a dataset's training split", folds);
        command.SetAction(parse =>
        {
            int k = parse.GetValue(folds);
            if (k < 2) throw new UserErrorException($"--folds must be at least 2, got {k}");
            if (parse.GetResult(options.Fold) is { Implicit: false }) throw new UserErrorException("--fold trains one fold's run: give it to loom train; loom cv trains every fold itself");
            var (task, _, config) = options.Resolve(parse, c => c with { ValidationFraction = 0 });
            Loom.Threads.Count = config.Threads;
            var data = task.Load(config);
            console.MarkupLine($"[bold]loom cv[/] {k} {(data.Strata is null ? "" : "stratified ")}folds of {data.Train.Count} samples: {Markup.Escape(config.Model!)} on {Markup.Escape(data.Description)}");
            return options.InNewRunFolder(parse, $"cv{k}-{Path.GetFileNameWithoutExtension(config.Data)}-{config.Model}", folder =>
            {
                folder.WriteConfig(Pipeline.Stored(config));
                var result = Pipeline.CrossValidate(config, data, k, fold =>
                {
                    var line = new JsonObject { ["kind"] = "fold", ["fold"] = fold.Fold + 1, ["train"] = fold.TrainCount, ["validation"] = fold.ValidationCount };
                    foreach (var (m, v) in fold.Metrics) line[m] = Pipeline.JsonNumber(v);
                    folder.AppendMetrics(line);
                    console.WriteLine($"fold {fold.Fold + 1}/{k}: " + string.Join("  ", fold.Metrics.Select(kv => $"{kv.Key} {kv.Value:F4}")));
                });
                var table = new Table().AddColumn("metric");
                for (int i = 0; i < k; i++) table.AddColumn(new TableColumn($"fold {i + 1}").RightAligned());
                table.AddColumn(new TableColumn("mean ± std").RightAligned());
                foreach (var (metric, (mean, std)) in result.Summary)
                    table.AddRow([metric, .. result.Folds.Select(f => $"{f.Metrics[metric]:F4}"), $"{mean:F4} ± {std:F4}"]);
                console.Write(table);
                var summary = new JsonObject { ["kind"] = "cv_summary", ["folds"] = k };
                foreach (var (metric, (mean, std)) in result.Summary) summary[metric] = new JsonObject { ["mean"] = Pipeline.JsonNumber(mean), ["std"] = Pipeline.JsonNumber(std) };
                folder.AppendMetrics(summary);
                console.MarkupLine($"run folder: {Markup.Escape(folder.Path)}");
                return 0;
            }, folder => File.Exists(folder.MetricsPath));
        });
        return command;
    }
}
