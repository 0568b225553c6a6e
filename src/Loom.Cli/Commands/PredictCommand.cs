using System.CommandLine;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>`loom predict RUN --output preds.csv [--data …]`: the task's prediction for every test sample (for a classifier, the class and probabilities), as CSV.</summary>
internal static class PredictCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var options = new RunOptions("predict on this data's test split instead of the run's own");
        var output = new Option<string>("--output") { Description = "CSV file to write", DefaultValueFactory = _ => "predictions.csv" };
        var command = new Command("predict", "Write predictions of a trained run (for a classifier: class and probabilities) as CSV");
        options.AddTo(command);
        command.Add(output);
        command.SetAction(parse =>
        {
            var predictions = options.Load(parse).Predict();
            var path = parse.GetValue(output)!;
            File.WriteAllText(path, predictions.ToCsv());
            console.MarkupLine($"wrote {predictions.Rows.Count} predictions to {Markup.Escape(path)}");
            return 0;
        });
        return command;
    }
}
