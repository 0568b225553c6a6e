using System.Text.Json;
using ScottPlot;

namespace Loom.Cli.Commands;

/// <summary>
/// `loom compress-report RUN... [--out DIR]`: one table over run folders (a trained model and what quantize, prune,
/// distill made of it): parameters, non-zero parameters, bytes on disk, latency at batch 1 and 64, and the test
/// metrics — as compress-report.md, compress-report.png (one panel per figure) and compress-report.json.
/// </summary>
internal static class CompressReportCommand
{
    /// <summary>One run's figures.</summary>
    public sealed record Figures(string Run, string Model, string Method, long Parameters, long NonZero, long Bytes,
        double Batch1Milliseconds, double Batch64Milliseconds, double Loss, IReadOnlyDictionary<string, double> Metrics);

    private static readonly string[] ReportFiles = ["compress-report.md", "compress-report.json", "compress-report.png"];

    public static Command Build(IAnsiConsole console)
    {
        var runs = new Argument<string[]>("runs") { Description = "run folders written by loom train, quantize, prune or distill", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "folder for compress-report.md, .png and .json", DefaultValueFactory = _ => "compress-report" };
        var threads = new Option<int?>("--threads") { Description = "threads for kernels (default: each run's)" };
        var force = new Option<bool>("--force") { Description = "overwrite an earlier report in --out's folder" };
        var command = new Command("compress-report", "Compare run folders (a model and its compressed forms): size, sparsity, latency and test metrics as markdown, PNG and JSON")
        {
            runs, output, threads, force,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) is < 1 and var t) throw new UserErrorException($"--threads must be at least 1, got {t}");
            var folders = parse.GetValue(runs)!.Select(r => new RunFolder(RunOptions.ExistingRun(r))).ToList();
            // Checked before the runs are measured: an earlier report is the user's until --force says otherwise.
            var outDir = parse.GetValue(output)!;
            if (File.Exists(outDir)) throw new UserErrorException($"--out {outDir} is a file; give the folder to write the report to");
            var earlier = ReportFiles.Select(f => Path.Combine(outDir, f)).FirstOrDefault(File.Exists);
            if (earlier is not null && !parse.GetValue(force)) throw new UserErrorException($"--out {outDir} already holds a report ({earlier}); pass --force to replace it, or give another folder");
            var figures = new List<Figures>();
            foreach (var folder in folders)
            {
                console.WriteOneLine($"measuring {folder.Path}");
                figures.Add(Measure(folder, Pipeline.Load(folder, threads: parse.GetValue(threads))));
            }
            Directory.CreateDirectory(outDir);
            var metrics = CommonMetrics(figures);
            var markdown = Markdown(figures, metrics);
            File.WriteAllText(Path.Combine(outDir, "compress-report.md"), string.Join('\n', new[] { "# Compression report", "" }.Concat(markdown)) + "\n");
            File.WriteAllText(Path.Combine(outDir, "compress-report.json"), Json(figures).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Chart(figures, metrics.FirstOrDefault(), Path.Combine(outDir, "compress-report.png"));
            Write(console, figures, metrics);
            console.WriteOneLine($"report: {Path.Combine(outDir, "compress-report.md")} (.png, .json beside it)");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The figures of one loaded run. Parameters are counted from the saved tensors, so an int8 layer (whose weights
    /// are buffers, not parameters) counts like its float original; quantisation scales and zero points and batch-norm
    /// running statistics are not parameters.
    /// </summary>
    public static Figures Measure(RunFolder folder, TrainedRun run)
    {
        long parameters = 0, nonZero = 0, bytes = 0;
        // An ensemble's weights are its members': counted and sized from their files.
        var weights = run.Model is Ensemble ensemble
            ? run.Config.Ensemble!.Select((m, i) => (File: Path.Combine(m.Run, RunFolder.ModelFile), Model: (Module)ensemble.Members[i])).ToList()
            : [(folder.ModelPath, run.Model)];
        IReadOnlyDictionary<string, Tensor> saved = new Dictionary<string, Tensor>();
        foreach (var (file, model) in weights)
        {
            saved = SafeTensors.Load(file).Tensors;
            bytes += new FileInfo(file).Length;
            // A clustered run's weights are counted as the float weights its indices stand for.
            IReadOnlyDictionary<string, Tensor> tensors = WeightClustering.IsClustered(saved) ? WeightClustering.Decode(saved, model, file) : saved;
            foreach (var (name, tensor) in tensors)
            {
                if (!IsParameter(name)) continue;
                parameters += tensor.Shape.Numel;
                nonZero += tensor.ToArray<double>().Count(v => v != 0);
            }
        }
        var m = CompressedRun.Measure(run, bytes);
        var method = run.Model is Ensemble members ? $"ensemble of {members.Members.Count}" : Method(folder, run.Config, saved);
        return new Figures(Path.GetFileName(folder.Path.TrimEnd(Path.DirectorySeparatorChar)), run.Config.Model ?? "", method,
            parameters, nonZero, m.Bytes, m.Batch1Milliseconds, m.Batch64Milliseconds, m.Loss, m.Metrics);
    }

    private static readonly string[] NotParameters = ["running_mean", "running_var", "num_batches_tracked", "_scale", "_zero_point"];

    private static bool IsParameter(string name) => !NotParameters.Any(suffix => name.EndsWith(suffix, StringComparison.Ordinal));

    /// <summary>What the run folder's config says was done to the model.</summary>
    private static string Method(RunFolder folder, TrainingConfig config, IReadOnlyDictionary<string, Tensor> saved)
    {
        var json = JsonNode.Parse(File.ReadAllText(folder.ConfigPath))!.AsObject();
        var parts = new List<string>();
        if (json["pruned_units"] is not null) parts.Add("structured pruning");
        if (json["pruned_heads"] is not null) parts.Add("head pruning");
        if (config.Quantization is { } q) parts.Add(q);
        if (WeightClustering.IsClustered(saved))
            parts.Add($"k-means ≤ {saved.Where(kv => kv.Key.EndsWith(WeightClustering.CodebookSuffix, StringComparison.Ordinal)).Max(kv => kv.Value.Shape[0])} centroids");
        return parts.Count == 0 ? "float" : string.Join(" + ", parts);
    }

    /// <summary>Metrics every run has, in the first run's order.</summary>
    private static List<string> CommonMetrics(IReadOnlyList<Figures> figures) =>
        figures[0].Metrics.Keys.Where(k => figures.All(f => f.Metrics.ContainsKey(k))).ToList();

    private static string Number(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    public static IEnumerable<string> Markdown(IReadOnlyList<Figures> figures, IReadOnlyList<string> metrics)
    {
        yield return "| run | model | method | parameters | non-zero | bytes on disk | batch-1 ms | batch-64 ms | loss | " + string.Join(" | ", metrics) + (metrics.Count > 0 ? " |" : "");
        yield return "|---|---|---|---:|---:|---:|---:|---:|---:|" + string.Concat(metrics.Select(_ => "---:|"));
        foreach (var f in figures)
            yield return $"| {f.Run} | {f.Model} | {f.Method} | {f.Parameters:N0} | {f.NonZero:N0} | {f.Bytes:N0} | {Number(f.Batch1Milliseconds, "F4")} | {Number(f.Batch64Milliseconds, "F3")} | {Number(f.Loss, "F4")} | "
                + string.Concat(metrics.Select(k => Number(f.Metrics[k], "F4") + " | ")).TrimEnd();
        yield return "";
        yield return "Latencies are medians of repeated forwards of one test batch on this machine (noisy when it is shared); parameters exclude batch-norm statistics and quantisation scales.";
    }

    private static JsonArray Json(IEnumerable<Figures> figures) => new(figures.Select(f =>
    {
        var metrics = new JsonObject();
        foreach (var (k, v) in f.Metrics) metrics[k] = Pipeline.JsonNumber(v);
        return (JsonNode)new JsonObject
        {
            ["run"] = f.Run,
            ["model"] = f.Model,
            ["method"] = f.Method,
            ["parameters"] = f.Parameters,
            ["non_zero_parameters"] = f.NonZero,
            ["bytes_on_disk"] = f.Bytes,
            ["latency_batch1_ms"] = Pipeline.JsonNumber(f.Batch1Milliseconds),
            ["latency_batch64_ms"] = Pipeline.JsonNumber(f.Batch64Milliseconds),
            ["loss"] = Pipeline.JsonNumber(f.Loss),
            ["metrics"] = metrics,
        };
    }).ToArray());

    /// <summary>One panel of horizontal bars per figure (bytes, non-zero parameters, both latencies, the first metric), runs in the given order from the top.</summary>
    private static void Chart(IReadOnlyList<Figures> figures, string? metric, string path)
    {
        var panels = new List<(string Title, Func<Figures, double> Value)>
        {
            ("bytes on disk (KB)", f => f.Bytes / 1024.0),
            ("non-zero parameters", f => f.NonZero),
            ("batch-1 latency (ms)", f => f.Batch1Milliseconds),
            ("batch-64 latency (ms)", f => f.Batch64Milliseconds),
        };
        if (metric is not null) panels.Add((metric, f => f.Metrics[metric]));
        var labels = figures.Select(f => f.Run.Length > 28 ? "…" + f.Run[^27..] : f.Run).ToArray();
        var positions = Enumerable.Range(0, figures.Count).Select(i => (double)(figures.Count - 1 - i)).ToArray();
        Multiplot? multiplot = null;
        foreach (var (title, value) in panels)
        {
            var plot = new Plot();
            var bars = plot.Add.Bars(positions, figures.Select(value).ToArray());
            bars.Horizontal = true;
            plot.Axes.Left.SetTicks(positions, labels);
            plot.Axes.Left.MinimumSize = 10 + 7 * labels.Max(l => l.Length);
            plot.Title(title);
            if (multiplot is null) multiplot = new Multiplot(plot); // the parameterless constructor would add an empty first subplot
            else multiplot.AddPlot(plot);
        }
        multiplot!.Layout = new ScottPlot.MultiplotLayouts.Rows();
        multiplot.SavePng(path, 900, panels.Count * (90 + 30 * figures.Count));
    }

    private static void Write(IAnsiConsole console, IReadOnlyList<Figures> figures, IReadOnlyList<string> metrics)
    {
        var table = new Table().AddColumn("run").AddColumn("method");
        foreach (var c in new[] { "parameters", "non-zero", "bytes", "batch-1 ms", "batch-64 ms", "loss" }.Concat(metrics)) table.AddColumn(new TableColumn(Markup.Escape(c)).RightAligned());
        foreach (var f in figures)
            table.AddRow([Markup.Escape(f.Run), Markup.Escape(f.Method), $"{f.Parameters:N0}", $"{f.NonZero:N0}", $"{f.Bytes:N0}", Number(f.Batch1Milliseconds, "F4"),
                Number(f.Batch64Milliseconds, "F3"), Number(f.Loss, "F4"), .. metrics.Select(k => Number(f.Metrics[k], "F4"))]);
        console.Write(table);
    }
}
