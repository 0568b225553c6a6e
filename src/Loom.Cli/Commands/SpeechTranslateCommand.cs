namespace Loom.Cli.Commands;

/// <summary>
/// `loom speech-translate RUN file.wav --to es`: cascade speech translation — the keyword-spotting run recognises the
/// spoken word (speech → English text), then a word table translates it (text → text).
/// </summary>
internal static class SpeechTranslateCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var spotting = new SpotterArguments("a .wav clip of one spoken word");
        var to = new Option<string>("--to") { Description = $"the target language ({string.Join(", ", WordTable.BuiltinLanguages)} built in)", Required = true };
        var table = new Option<string?>("--table") { Description = "a word table of \"english<TAB>translation\" lines instead of the built-in one" };
        var command = new Command("speech-translate", "Recognise a spoken word with a keyword-spotting run and translate it (a cascade through a word table)") { spotting.Run, spotting.Audio, to, table, spotting.Best };
        command.SetAction(parse =>
        {
            string language = parse.GetValue(to)!;
            var words = parse.GetValue(table) is { } file ? WordTable.Read(file, language) : WordTable.Builtin(language);
            var (word, probability) = spotting.LoadSpotter(parse, "speech-translate").Classify(spotting.ReadAudio(parse));
            var output = console.Profile.Out.Writer;
            if (word.StartsWith('_'))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"({(word == SpeechCommandsGenerator.Silence ? "no word" : "not a known word")}, p = {probability:F3})"));
                return 0;
            }
            var translation = words.Translate(word);
            if (translation is null) throw new UserErrorException($"heard '{word}' (p = {probability:F3}), which the {language} word table does not translate; add it with --table FILE");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{word} → {translation} (p = {probability:F3})"));
            return 0;
        });
        return command;
    }
}
