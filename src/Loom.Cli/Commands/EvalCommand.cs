using System.CommandLine;
using Loom.Data;
using Loom.Models;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>`loom eval RUN [--data …]`: the test metrics of a trained run, on its own test split or on other data.</summary>
internal static class EvalCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train" };
        var data = new Option<string?>("--data") { Description = "evaluate on this data instead of the run's own (same formats as loom train)" };
        var best = new Option<bool>("--best") { Description = "use best.safetensors (lowest validation loss) instead of the final model" };
        var command = new Command("eval", "Evaluate a trained run on its test split or on other data") { run, data, best };
        command.SetAction(parse =>
        {
            var folder = new RunFolder(TrainCommand.ExistingRun(parse.GetValue(run)!));
            var (config, loaded, model) = ClassificationPipeline.Load(folder, parse.GetValue(data), parse.GetValue(best));
            var evaluator = ClassificationPipeline.Inference(model, loaded.ClassNames.Count);
            var (result, confusion) = ClassificationPipeline.Evaluate(evaluator, new DataLoader<Sample>(loaded.Test, 256), loaded.ClassNames.Count);
            var table = new Table().Title($"{config.Model} on {Markup.Escape(loaded.Description)}").AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("loss", $"{result.Loss:F4}");
            foreach (var (k, v) in result.Metrics) table.AddRow(k, $"{v:F4}");
            table.AddRow("samples", result.Samples.ToString());
            console.Write(table);
            var perClass = new Table().AddColumns("class", "precision", "recall", "F1", "support");
            var per = PrecisionRecallF1.PerClass(confusion);
            for (int i = 0; i < per.Length; i++)
                perClass.AddRow(Markup.Escape(loaded.ClassNames[i]), $"{per[i].Precision:F3}", $"{per[i].Recall:F3}", $"{per[i].F1:F3}", per[i].Support.ToString());
            console.Write(perClass);
            return 0;
        });
        return command;
    }
}
