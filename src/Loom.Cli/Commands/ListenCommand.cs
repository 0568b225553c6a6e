namespace Loom.Cli.Commands;

/// <summary>`loom listen RUN long.wav`: the words a keyword-spotting run hears in a recording, one line each with start and end times.</summary>
internal static class ListenCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var spotting = new SpotterArguments("a .wav recording of any length");
        var hop = new Option<double>("--hop") { Description = "seconds between the one-second windows classified", DefaultValueFactory = _ => 0.1 };
        var threshold = new Option<double>("--threshold") { Description = "probability a word needs in consecutive windows to be reported", DefaultValueFactory = _ => 0.6 };
        var threads = new Option<int>("--threads") { Description = "threads for kernels", DefaultValueFactory = _ => 1 };
        var command = new Command("listen", "Print the words a keyword-spotting run hears in a recording, with their start and end times") { spotting.Run, spotting.Audio, hop, threshold, spotting.Best, threads };
        command.SetAction(parse =>
        {
            if (parse.GetValue(threads) < 1) throw new UserErrorException($"--threads must be at least 1, got {parse.GetValue(threads)}");
            Loom.Threads.Count = parse.GetValue(threads);
            var spotter = spotting.LoadSpotter(parse, "listen");
            var recording = spotting.ReadAudio(parse);
            var words = spotter.Listen(recording, parse.GetValue(hop), parse.GetValue(threshold));
            var output = console.Profile.Out.Writer;
            output.WriteLine("start,end,word,probability");
            foreach (var w in words)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{w.Start:F2},{w.End:F2},{w.Word},{w.Probability:F3}"));
            Console.Error.WriteLine($"{words.Count} word{(words.Count == 1 ? "" : "s")} in {recording.Seconds:F1} s of audio");
            return 0;
        });
        return command;
    }
}
