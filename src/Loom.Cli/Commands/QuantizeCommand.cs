using System.CommandLine;
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
            var before = CompressedRun.Measure(trained, source.ModelPath);

            var quantized = Quantization.QuantizeDynamic(trained.Model);
            if (quantized.Quantized.Count == 0)
                throw new UserErrorException($"the {trained.Config.Model} of {source.Path} has no linear layer that can be quantised" +
                    (quantized.LeftInFloat.Count > 0 ? $" ({string.Join(", ", quantized.LeftInFloat)} are held in fields of their modules)" : ""));
            var target = CompressedRun.NewFolder(source, parse.GetValue(output), "int8");
            CompressedRun.CopyRunFiles(source, target);
            var config = source.ReadConfig();
            config["quantization"] = Quantization.DynamicInt8;
            target.WriteConfig(config);
            SafeTensors.Save(target.ModelPath, quantized.Model.StateDict());

            // Read back through the path eval and predict take, so what is reported is what they will see.
            var reloaded = Pipeline.Load(target, parse.GetValue(run.Data), threads: parse.GetValue(run.Threads));
            var after = CompressedRun.Measure(reloaded, target.ModelPath);

            var rows = CompressedRun.Rows(before, after);
            CompressedRun.Write(console, $"{trained.Config.Model}: float32 → dynamic int8", "float32", "int8", rows);
            if (quantized.LeftInFloat.Count > 0) console.WriteOneLine($"note: left in float32 (held in fields of their modules): {string.Join(", ", quantized.LeftInFloat)}");
            File.WriteAllText(target.ReportPath, Report(trained.Config.Model!, source, quantized, rows));
            console.WriteOneLine($"quantised run: {target.Path}");
            return 0;
        });
        return command;
    }

    private static string Report(string model, RunFolder source, QuantizedModel quantized, List<CompressedRun.Row> rows)
    {
        var lines = new List<string>
        {
            $"# {model}, dynamic int8", "",
            $"Quantised from `{source.Path}` by `loom quantize`: linear layers {string.Join(", ", quantized.Quantized.Select(n => $"`{n}`"))} hold int8 weights " +
            "(symmetric, one scale per output channel); their inputs are quantised per batch from the batch's own range. " +
            "Latency is the median of 200 single-sample forwards on this machine at the time of quantising.", "",
        };
        lines.AddRange(CompressedRun.Markdown("float32", "int8", rows));
        if (quantized.LeftInFloat.Count > 0) lines.Add($"\nLeft in float32: {string.Join(", ", quantized.LeftInFloat)}.");
        return string.Join('\n', lines) + "\n";
    }

}
