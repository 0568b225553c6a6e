namespace Loom.Cli.Commands;

/// <summary>`loom summarize RUN --text "…"`: a trained summarisation run's one-line summary of each text, one per line.</summary>
internal static class SummarizeCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train on package descriptions" };
        var text = new Option<string[]>("--text") { Description = "a text to summarise (may be repeated)", Arity = ArgumentArity.OneOrMore };
        var file = new Option<string?>("--file") { Description = "a UTF-8 file whose whole content is one text to summarise" };
        var inference = new InferenceOptions();
        var command = new Command("summarize", "Summarise texts in one line with a trained summarisation run") { run, text, file, inference.Best, inference.Threads };
        command.SetAction(parse =>
        {
            inference.ApplyThreads(parse);
            var texts = (parse.GetValue(text) ?? []).ToList();
            if (parse.GetValue(file) is { } path)
            {
                if (!File.Exists(path)) throw new UserErrorException($"--file {path}: no such file");
                texts.Add(TextCorpus.ReadText(path));
            }
            if (texts.Any(t => t.Trim().Length == 0)) throw new UserErrorException("an empty text has nothing to summarise: give words with --text or in --file");
            if (texts.Count == 0) throw new UserErrorException("give a text to summarise with --text \"…\" or --file FILE");
            var summarizer = Summarizer.Load(new RunFolder(RunOptions.ExistingRun(parse.GetValue(run)!)), parse.GetValue(inference.Best));
            foreach (var summary in summarizer.Summarize(texts)) console.Profile.Out.Writer.WriteLine(summary);
            return 0;
        });
        return command;
    }
}
