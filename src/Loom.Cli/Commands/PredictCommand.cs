using System.CommandLine;
using System.Globalization;
using System.Text;
using Loom.Data;
using Loom.Models;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>`loom predict RUN --output preds.csv [--data …]`: predicted class and probabilities for every test sample, as CSV.</summary>
internal static class PredictCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train" };
        var data = new Option<string?>("--data") { Description = "predict on this data's test split instead of the run's own" };
        var output = new Option<string>("--output") { Description = "CSV file to write", DefaultValueFactory = _ => "predictions.csv" };
        var command = new Command("predict", "Write predictions (class and probabilities) of a trained run as CSV") { run, data, output };
        command.SetAction(parse =>
        {
            var folder = new RunFolder(TrainCommand.ExistingRun(parse.GetValue(run)!));
            var (_, loaded, model) = ClassificationPipeline.Load(folder, parse.GetValue(data));
            var evaluator = ClassificationPipeline.Inference(model, loaded.ClassNames.Count);
            var probabilities = evaluator.Predict(new DataLoader<Sample>(loaded.Test, 256)).Softmax(-1);
            int n = probabilities.Shape[0], c = probabilities.Shape[1];
            var p = probabilities.ToArray<double>();
            var targets = loaded.Test.Targets.ToArray<long>();
            var names = loaded.ClassNames;
            var sb = new StringBuilder("index,target,predicted," + string.Join(",", names.Select(k => "p_" + Csv(k))) + "\n");
            for (int i = 0; i < n; i++)
            {
                var row = p.AsSpan(i * c, c);
                int best = 0;
                for (int j = 1; j < c; j++) if (row[j] > row[best]) best = j;
                sb.Append(i).Append(',').Append(Csv(names[(int)targets[i]])).Append(',').Append(Csv(names[best]));
                foreach (var v in row) sb.Append(',').Append(v.ToString("G6", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
            var path = parse.GetValue(output)!;
            File.WriteAllText(path, sb.ToString());
            console.MarkupLine($"wrote {n} predictions to {Markup.Escape(path)}");
            return 0;
        });
        return command;
    }

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
