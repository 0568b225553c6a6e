namespace Loom.Cli.Commands;

/// <summary>
/// `loom cluster RUN --centroids K [--out DIR]`: weight sharing by k-means (<see cref="WeightClustering"/>) into a new
/// run folder whose model.safetensors holds each weight matrix as K float centroids plus a 4-bit (K ≤ 16) or 8-bit
/// index per weight. Eval and predict look the indices up at load and run the float model. Prints metrics, bytes on
/// disk and latency before and after; report.md adds each layer's error.
/// </summary>
internal static class ClusterCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var centroids = new Option<int>("--centroids") { Description = "centroids per weight matrix: 2–16 store 4-bit indices, 17–256 8-bit", DefaultValueFactory = _ => 16 };
        var output = new Option<string?>("--out") { Description = "the new run folder (default: RUN-clustered beside RUN)" };
        var run = new RunOptions(console, "evaluate before and after on this labelled data instead of the run's test split");
        var command = run.Command("cluster", "Share weights by k-means (a codebook of 16 or 256 values per layer) into a new run folder", centroids, output);
        command.SetAction(parse =>
        {
            int k = parse.GetValue(centroids);
            if (k is < 2 or > 256) throw new UserErrorException($"--centroids must be in [2, 256], got {k}");
            var source = run.Folder(parse);
            var trained = run.Load(parse);
            if (trained.Config.Quantization is not null) throw new UserErrorException($"{source.Path} is quantised; cluster the float run it came from");
            var before = CompressedRun.Measure(trained, source.ModelPath);
            var layers = WeightClustering.Cluster(trained.Model, k);
            if (layers.Count == 0) throw new UserErrorException($"the {trained.Config.Model} has no weight matrix to cluster");

            var target = CompressedRun.NewFolder(source, parse.GetValue(output), "clustered");
            CompressedRun.CopyRunFiles(source, target);
            target.WriteConfig(source.ReadConfig());
            SafeTensors.Save(target.ModelPath, WeightClustering.Encode(trained.Model.StateDict(), layers.Select(l => l.Name)));
            var reloaded = Pipeline.Load(target, parse.GetValue(run.Data), threads: parse.GetValue(run.Threads));
            var after = CompressedRun.Measure(reloaded, target.ModelPath);
            var rows = CompressedRun.Rows(before, after);
            string title = $"{trained.Config.Model}: k-means weight sharing, {k} centroids per layer";
            CompressedRun.Write(console, title, "float32", "clustered", rows);
            var lines = new List<string> { $"# {title}", "", $"Clustered from `{source.Path}` by `loom cluster`.", "" };
            lines.AddRange(CompressedRun.Markdown("float32", "clustered", rows));
            lines.AddRange(["", "## Layers", "", "| weight | count | centroids | rms error | max error |", "|---|---:|---:|---:|---:|"]);
            lines.AddRange(layers.Select(l => $"| {l.Name} | {l.Count:N0} | {l.Centroids} | {l.RootMeanSquareError:G4} | {l.MaxError:G4} |"));
            File.WriteAllText(target.ReportPath, string.Join('\n', lines) + "\n");
            console.WriteOneLine($"clustered run: {target.Path}");
            return 0;
        });
        return command;
    }
}
