namespace Loom.Cli.Commands;

/// <summary>
/// `loom predict RUN [--data …] [--output preds.csv]`: the task's prediction for every sample (for a classifier, the
/// class and probabilities), as CSV. `loom predict RUN INPUT` (a file such as a .wav clip) prints the predictions of
/// that input instead, unless --output is given.
/// </summary>
internal static class PredictCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new RunOptions(console, "predict every sample of this data (labels not needed; for data that comes split, its test part) instead of the run's test split");
        var output = new Option<string>("--output") { Description = "CSV file to write (never a file of the run folder or the data)", DefaultValueFactory = _ => "predictions.csv" };
        var force = new Option<bool>("--force") { Description = "overwrite --output if it exists" };
        var text = new Option<string[]>("--text") { Description = "a text-classification run: print the class and probability of this text (may be repeated) instead of writing a CSV" };
        var command = run.Command("predict", "Write predictions of a trained run (for a classifier: class and probabilities) as CSV", output, force, text);
        var input = new Argument<string?>("input") { Description = "data to predict (an image or a folder of images for an image classifier, a .wav clip for a keyword-spotting run); the predictions are printed unless --output is given", Arity = ArgumentArity.ZeroOrOne };
        command.Arguments.Add(input);
        command.SetAction(parse =>
        {
            if (parse.GetValue(text) is { Length: > 0 } texts)
            {
                if (parse.GetValue(run.Data) is not null || parse.GetValue(input) is not null) throw new UserErrorException("give either --text or data to predict, not both");
                Loom.Threads.Count = parse.GetValue(run.Threads) ?? Environment.ProcessorCount;
                var classifier = TextClassifier.Load(run.Folder(parse));
                foreach (var (label, probability, _) in classifier.Predict(texts))
                    console.WriteLine($"{label}\t{probability:F4}");
                return 0;
            }
            if (parse.GetValue(input) is { } given)
            {
                if (parse.GetValue(run.Data) is not null) throw new UserErrorException($"give the data either as {given} or with --data, not both");
                if (parse.GetResult(output) is not { Implicit: false })
                {
                    console.Profile.Out.Writer.Write(run.Load(parse, data: given).Predict().ToCsv());
                    return 0;
                }
            }
            // Checked before the model runs: a mistake costs nothing, and nothing of the user's is overwritten.
            var folder = run.Folder(parse);
            var data = parse.GetValue(input) ?? parse.GetValue(run.Data);
            var path = OutputFile.Check(parse.GetValue(output)!, "--output", parse.GetValue(force), [data ?? Pipeline.ReadConfig(folder).Data], folder.Path);
            var predictions = run.Load(parse, data: data).Predict();
            OutputFile.WriteText(path, predictions.ToCsv());
            console.MarkupLine($"wrote {predictions.Rows.Count} predictions to {Markup.Escape(parse.GetValue(output)!)}");
            return 0;
        });
        return command;
    }
}
