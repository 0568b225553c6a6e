namespace Loom.Cli.Commands;

/// <summary>What the compression verbs (quantize, prune) share: the new run folder, and the before/after measurements and table.</summary>
internal static class CompressedRun
{
    public sealed record Measurement(double Loss, IReadOnlyDictionary<string, double> Metrics, long Bytes, double Batch1Milliseconds, double Batch64Milliseconds);

    public static Measurement Measure(TrainedRun run, string weights) => run.Model is Ensemble
        ? throw new UserErrorException("the run is an ensemble (loom ensemble), which holds no weights of its own: compress its member runs and make an ensemble of those")
        : Measure(run, new FileInfo(weights).Length);

    /// <summary>The run's test figures and latencies, with <paramref name="bytes"/> as its size on disk.</summary>
    public static Measurement Measure(TrainedRun run, long bytes)
    {
        var test = run.Evaluate();
        return new Measurement(test.Loss, test.Metrics, bytes, Latency(run, 1, 200), Latency(run, 64, 30));
    }

    /// <summary>Median of <paramref name="repeats"/> forwards (after a tenth as many of warm-up) of the first test batch of <paramref name="batchSize"/>.</summary>
    public static double Latency(TrainedRun run, int batchSize, int repeats)
    {
        var batch = Pipeline.Batches(run.Data.Test, batchSize).First();
        var x = batch.Inputs;
        var times = new double[repeats];
        using var noGrad = new Autograd.NoGrad();
        for (int i = -Math.Max(2, repeats / 10); i < times.Length; i++)
        {
            using var scope = new Memory.MemoryScope();
            long t0 = Stopwatch.GetTimestamp();
            run.Model.Forward(x);
            if (i >= 0) times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    public sealed record Row(string Name, string Before, string After, string Change);

    public static List<Row> Rows(Measurement before, Measurement after)
    {
        var rows = new List<Row> { new("loss", $"{before.Loss:F4}", $"{after.Loss:F4}", $"{after.Loss - before.Loss:+0.0000;-0.0000}") };
        foreach (var (name, value) in before.Metrics)
            if (after.Metrics.TryGetValue(name, out var v)) rows.Add(new(name, $"{value:F4}", $"{v:F4}", $"{v - value:+0.0000;-0.0000}"));
        rows.Add(new("bytes on disk", $"{before.Bytes:N0}", $"{after.Bytes:N0}", Ratio(before.Bytes, after.Bytes, "smaller", "larger")));
        rows.Add(new("batch-1 latency (ms)", $"{before.Batch1Milliseconds:F4}", $"{after.Batch1Milliseconds:F4}", Ratio(before.Batch1Milliseconds, after.Batch1Milliseconds, "faster", "slower")));
        rows.Add(new("batch-64 latency (ms)", $"{before.Batch64Milliseconds:F3}", $"{after.Batch64Milliseconds:F3}", Ratio(before.Batch64Milliseconds, after.Batch64Milliseconds, "faster", "slower")));
        return rows;
    }

    // A keyword-spotting CNN quantised to int8 ran its batches of 64 in 7.9 ms against 5.1 ms: "1.54× slower", not "0.65× faster".
    private static string Ratio(double before, double after, string less, string more) =>
        before >= after ? $"{before / after:F2}× {less}" : $"{after / before:F2}× {more}";

    /// <summary>The before/after table on the console.</summary>
    public static void Write(IAnsiConsole console, string title, string before, string after, IEnumerable<Row> rows)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumn("")
            .AddColumn(new TableColumn(Markup.Escape(before)).RightAligned()).AddColumn(new TableColumn(Markup.Escape(after)).RightAligned()).AddColumn(new TableColumn("change").RightAligned());
        foreach (var r in rows) table.AddRow(Markup.Escape(r.Name), r.Before, r.After, r.Change);
        console.Write(table);
    }

    /// <summary>The rows as a markdown table.</summary>
    public static IEnumerable<string> Markdown(string before, string after, IEnumerable<Row> rows) =>
        new[] { $"| | {before} | {after} | change |", "|---|---:|---:|---:|" }.Concat(rows.Select(r => $"| {r.Name} | {r.Before} | {r.After} | {r.Change} |"));

    /// <summary>The new run folder: --out, or RUN-suffix beside RUN; an occupied folder is refused.</summary>
    public static RunFolder NewFolder(RunFolder source, string? output, string suffix)
    {
        var path = output ?? source.Path.TrimEnd(Path.DirectorySeparatorChar) + "-" + suffix;
        OutputFile.RequireNewFolder(path);
        return new RunFolder(path);
    }

    /// <summary>
    /// Everything the task wrote beside the model (vocabularies, feature statistics, the training history) goes along;
    /// the float weights and checkpoints do not, and the report is the quantisation's own.
    /// </summary>
    public static void CopyRunFiles(RunFolder source, RunFolder target)
    {
        var skip = new HashSet<string> { "model.safetensors", "best.safetensors", "last.ckpt", "report.md", "config.json" };
        foreach (var file in Directory.EnumerateFiles(source.Path))
            if (!skip.Contains(Path.GetFileName(file))) File.Copy(file, Path.Combine(target.Path, Path.GetFileName(file)));
    }
}
