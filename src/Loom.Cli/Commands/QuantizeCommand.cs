using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Loom.Compress;
using Loom.Models;
using Loom.Nn.Serialization;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>
/// `loom quantize RUN [--out DIR]`: post-training dynamic int8 quantisation of a trained run's linear layers into a
/// new run folder that `loom eval` and `loom predict` take like any other; prints test metrics, size on disk and
/// batch-1 latency before and after, and writes them to the new folder's report.md.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var output = new Option<string?>("--out") { Description = "the new run folder (default: RUN-int8 beside RUN)" };
        var run = new RunOptions(console, "evaluate before and after on this labelled data instead of the run's test split");
        var command = run.Command("quantize", "Quantise a trained run's linear layers to int8 (dynamic: weights per channel, activations per batch) into a new run folder", output);
        command.SetAction(parse =>
        {
            var source = run.Folder(parse);
            var trained = run.Load(parse);
            if (trained.Config.Quantization is not null) throw new UserErrorException($"{source.Path} is already quantised ({trained.Config.Quantization})");
            var before = Measure(trained, source.ModelPath);

            var quantized = Quantization.QuantizeDynamic(trained.Model);
            if (quantized.Quantized.Count == 0)
                throw new UserErrorException($"the {trained.Config.Model} of {source.Path} has no linear layer that can be quantised" +
                    (quantized.LeftInFloat.Count > 0 ? $" ({string.Join(", ", quantized.LeftInFloat)} are held in fields of their modules)" : ""));
            var target = NewFolder(source, parse.GetValue(output));
            CopyRunFiles(source, target);
            var config = source.ReadConfig();
            config["quantization"] = Quantization.DynamicInt8;
            target.WriteConfig(config);
            SafeTensors.Save(target.ModelPath, quantized.Model.StateDict());

            // Read back through the path eval and predict take, so what is reported is what they will see.
            var reloaded = Pipeline.Load(target, parse.GetValue(run.Data), threads: parse.GetValue(run.Threads));
            var after = Measure(reloaded, target.ModelPath);

            var rows = Rows(before, after);
            var table = new Table().Title($"{Markup.Escape(trained.Config.Model!)}: float32 → dynamic int8").AddColumn("")
                .AddColumn(new TableColumn("float32").RightAligned()).AddColumn(new TableColumn("int8").RightAligned()).AddColumn(new TableColumn("change").RightAligned());
            foreach (var r in rows) table.AddRow(Markup.Escape(r.Name), r.Before, r.After, r.Change);
            console.Write(table);
            if (quantized.LeftInFloat.Count > 0) console.WriteOneLine($"note: left in float32 (held in fields of their modules): {string.Join(", ", quantized.LeftInFloat)}");
            File.WriteAllText(target.ReportPath, Report(trained.Config.Model!, source, quantized, rows));
            console.WriteOneLine($"quantised run: {target.Path}");
            return 0;
        });
        return command;
    }

    private sealed record Measurement(double Loss, IReadOnlyDictionary<string, double> Metrics, long Bytes, double Batch1Milliseconds);

    private static Measurement Measure(TrainedRun run, string weights)
    {
        var test = run.Evaluate();
        return new Measurement(test.Loss, test.Metrics, new FileInfo(weights).Length, Batch1Latency(run));
    }

    /// <summary>Median of 200 single-sample forwards (after 20 of warm-up) on the first test sample.</summary>
    private static double Batch1Latency(TrainedRun run)
    {
        var batch = Pipeline.Batches(run.Data.Test, 1).First();
        var x = batch.Inputs;
        var times = new double[200];
        using var noGrad = new Autograd.NoGrad();
        for (int i = -20; i < times.Length; i++)
        {
            using var scope = new Memory.MemoryScope();
            long t0 = Stopwatch.GetTimestamp();
            run.Model.Forward(x);
            if (i >= 0) times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    private sealed record Row(string Name, string Before, string After, string Change);

    private static List<Row> Rows(Measurement before, Measurement after)
    {
        var rows = new List<Row> { new("loss", $"{before.Loss:F4}", $"{after.Loss:F4}", $"{after.Loss - before.Loss:+0.0000;-0.0000}") };
        foreach (var (name, value) in before.Metrics)
            if (after.Metrics.TryGetValue(name, out var v)) rows.Add(new(name, $"{value:F4}", $"{v:F4}", $"{v - value:+0.0000;-0.0000}"));
        rows.Add(new("bytes on disk", $"{before.Bytes:N0}", $"{after.Bytes:N0}", $"{(double)before.Bytes / after.Bytes:F2}× smaller"));
        rows.Add(new("batch-1 latency (ms)", $"{before.Batch1Milliseconds:F4}", $"{after.Batch1Milliseconds:F4}", $"{before.Batch1Milliseconds / after.Batch1Milliseconds:F2}× faster"));
        return rows;
    }

    private static string Report(string model, RunFolder source, QuantizedModel quantized, List<Row> rows)
    {
        var lines = new List<string>
        {
            $"# {model}, dynamic int8", "",
            $"Quantised from `{source.Path}` by `loom quantize`: linear layers {string.Join(", ", quantized.Quantized.Select(n => $"`{n}`"))} hold int8 weights " +
            "(symmetric, one scale per output channel); their inputs are quantised per batch from the batch's own range. " +
            "Latency is the median of 200 single-sample forwards on this machine at the time of quantising.", "",
            "| | float32 | int8 | change |", "|---|---:|---:|---:|",
        };
        lines.AddRange(rows.Select(r => $"| {r.Name} | {r.Before} | {r.After} | {r.Change} |"));
        if (quantized.LeftInFloat.Count > 0) lines.Add($"\nLeft in float32: {string.Join(", ", quantized.LeftInFloat)}.");
        return string.Join('\n', lines) + "\n";
    }

    private static RunFolder NewFolder(RunFolder source, string? output)
    {
        var path = output ?? source.Path.TrimEnd(Path.DirectorySeparatorChar) + "-int8";
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
            throw new UserErrorException($"'{path}' already exists and is not empty; give another folder with --out");
        return new RunFolder(path);
    }

    /// <summary>
    /// Everything the task wrote beside the model (vocabularies, feature statistics, the training history) goes along;
    /// the float weights and checkpoints do not, and the report is the quantisation's own.
    /// </summary>
    private static void CopyRunFiles(RunFolder source, RunFolder target)
    {
        var skip = new HashSet<string> { "model.safetensors", "best.safetensors", "last.ckpt", "report.md", "config.json" };
        foreach (var file in Directory.EnumerateFiles(source.Path))
            if (!skip.Contains(Path.GetFileName(file))) File.Copy(file, Path.Combine(target.Path, Path.GetFileName(file)));
    }
}
