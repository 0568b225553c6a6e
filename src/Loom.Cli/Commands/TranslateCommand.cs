namespace Loom.Cli.Commands;

/// <summary>`loom translate RUN --text "…"`: translate sentences (each --text, or each line of --file) with a trained translation run.</summary>
internal static class TranslateCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train --task translation" };
        var text = new Option<string[]>("--text") { Description = "a sentence to translate (repeat for several)", Arity = ArgumentArity.OneOrMore };
        var file = new Option<string?>("--file") { Description = "a text file: each non-empty line is translated" };
        var beam = new Option<int?>("--beam") { Description = "beam size (1: greedy; default: the run's --beam)" };
        var inference = new InferenceOptions();
        var command = new Command("translate", "Translate sentences with a trained translation run") { run, text, file, beam, inference.Best, inference.Threads };
        command.SetAction(parse =>
        {
            inference.ApplyThreads(parse);
            if (parse.GetValue(beam) is < 1 and var b) throw new UserErrorException($"--beam must be at least 1, got {b}");
            var sentences = (parse.GetValue(text) ?? []).ToList();
            if (parse.GetValue(file) is { } path)
            {
                if (!File.Exists(path)) throw new UserErrorException($"--file {path}: no such file");
                sentences.AddRange(TextCorpus.ReadText(path).Split('\n').Where(l => l.Trim().Length > 0));
            }
            if (sentences.Count == 0) throw new UserErrorException("give a sentence with --text \"…\" or a file of sentences with --file");
            if (sentences.Any(t => t.Trim().Length == 0)) throw new UserErrorException("--text: an empty sentence has nothing to translate");
            var translator = TranslationTask.LoadTranslator(new RunFolder(RunOptions.ExistingRun(parse.GetValue(run)!)), parse.GetValue(inference.Best), parse.GetValue(beam));
            var output = console.Profile.Out.Writer;
            foreach (var translation in translator.Translate(sentences)) output.WriteLine(translation);
            return 0;
        });
        return command;
    }
}
