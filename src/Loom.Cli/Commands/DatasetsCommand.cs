namespace Loom.Cli.Commands;

/// <summary>
/// `loom datasets`: the built-in datasets, their size, source, licence and availability here; `loom datasets make
/// speech-commands --words "…" --out DIR` synthesises a keyword-spotting dataset (see <see cref="SpeechCommandsGenerator"/>).
/// </summary>
internal static class DatasetsCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var command = new Command("datasets", "List the built-in datasets and whether this machine has them");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumns("name", "train", "test", "input", "classes", "available");
            var list = BuiltinDatasets.List();
            foreach (var d in list)
                table.AddRow(Markup.Escape(d.Name), d.TrainCount.ToString("N0"), d.TestCount.ToString("N0"), Markup.Escape(new Shape(d.InputShape).ToString()),
                    d.ClassNames.Count.ToString(), d.IsAvailable ? "[green]yes[/]" : "[red]no[/]");
            console.Write(table);
            foreach (var d in list)
                console.MarkupLine($"[bold]{Markup.Escape(d.Name)}[/]: {Markup.Escape(d.Source)}; licence {Markup.Escape(d.Licence)}; read from {Markup.Escape(d.Location)}");
            return 0;
        });
        command.Subcommands.Add(MakeCommand(console));
        return command;
    }

    private static Command MakeCommand(IAnsiConsole console)
    {
        var name = new Argument<string>("name") { Description = "the dataset to make: speech-commands" };
        name.AcceptOnlyFromAmong("speech-commands");
        var words = new Option<string>("--words") { Description = "the words to recognise, separated by spaces or commas", Required = true };
        var output = new Option<string>("--out") { Description = "the folder to write (new or empty)", Required = true };
        var perWord = new Option<int>("--per-word") { Description = "espeak-ng clips per word (random voice, variant, speed, pitch); flite and festival add 24 more", DefaultValueFactory = _ => 200 };
        var synthesizers = new Option<string>("--synthesizers") { Description = "comma-separated: espeak-ng, flite, festival", DefaultValueFactory = _ => string.Join(",", SpeechCommandsGenerator.AllSynthesizers) };
        var jobs = new Option<int>("--jobs") { Description = "synthesiser processes at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int>("--seed") { Description = "random seed of the voices, speeds and pitches", DefaultValueFactory = _ => 0 };
        var command = new Command("make", "Make a dataset: speech-commands synthesises spoken words with espeak-ng, flite and festival") { name, words, output, perWord, synthesizers, jobs, seed };
        command.SetAction(parse =>
        {
            if (parse.GetValue(jobs) < 1) throw new UserErrorException($"--jobs must be at least 1, got {parse.GetValue(jobs)}");
            var options = new SpeechCommandsOptions
            {
                Words = parse.GetValue(words)!.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Output = parse.GetValue(output)!,
                PerWord = parse.GetValue(perWord),
                Synthesizers = parse.GetValue(synthesizers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Jobs = parse.GetValue(jobs),
                Seed = parse.GetValue(seed),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int lastShown = -1;
            SpeechCommandsResult result;
            try
            {
                result = SpeechCommandsGenerator.Generate(options, (done, total) =>
                {
                    int tenth = done * 10 / total;
                    if (Interlocked.Exchange(ref lastShown, tenth) != tenth) Console.Error.WriteLine($"{done}/{total} clips");
                });
            }
            catch (InvalidOperationException e)
            {
                throw new UserErrorException(e.Message);
            }
            var table = new Table().AddColumns("class", "clips");
            foreach (var (label, count) in result.ClipsPerClass.OrderBy(p => p.Key, StringComparer.Ordinal)) table.AddRow(Markup.Escape(label), count.ToString("N0"));
            console.Write(table);
            console.WriteOneLine($"wrote {result.Clips:N0} clips and {result.Manifest} in {clock.Elapsed.TotalSeconds:F1} s; train with: loom train --data {options.Output}");
            return 0;
        });
        return command;
    }
}
