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
            var path = CheckOutput(parse.GetValue(output)!, folder.Path, data ?? Pipeline.ReadConfig(folder).Data, parse.GetValue(force));
            var predictions = run.Load(parse, data: data).Predict();
            WriteReplacing(path, predictions.ToCsv());
            console.MarkupLine($"wrote {predictions.Rows.Count} predictions to {Markup.Escape(parse.GetValue(output)!)}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The full path to write to. Refused whatever --force says: a folder, a file inside the run folder (its config,
    /// weights and checkpoint), the data being predicted. Refused without --force: any other existing file.
    /// </summary>
    private static string CheckOutput(string output, string runFolder, string data, bool force)
    {
        var path = Path.GetFullPath(output);
        if (Directory.Exists(path)) throw new UserErrorException($"--output {output} is a folder; give the file to write");
        var real = RealPath(path);
        if (real.StartsWith(Path.TrimEndingDirectorySeparator(RealPath(runFolder)) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UserErrorException($"--output {output} is inside the run folder {runFolder}; write the predictions elsewhere, so that no file of the run is replaced");
        if (File.Exists(data) && real == RealPath(data)) throw new UserErrorException($"--output {output} is the data being predicted; write the predictions to another file");
        if (File.Exists(path) && !force) throw new UserErrorException($"--output {output} exists; pass --force to overwrite it");
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder)) throw new UserErrorException($"--output {output}: the folder {folder} does not exist");
        return path;
    }

    // A link (or a link to a link) stands for the file it points to: writing through it would overwrite that file.
    private static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        FileSystemInfo info = Directory.Exists(full) ? new DirectoryInfo(full) : new FileInfo(full);
        return info.LinkTarget is null ? full : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    /// <summary>Writes a temporary file beside <paramref name="path"/> and moves it over: a failure never leaves a half-written file in its place.</summary>
    private static void WriteReplacing(string path, string text)
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
