using System.CommandLine;
using System.Globalization;
using Loom.Data;
using Loom.Models;
using Loom.Train;
using Spectre.Console;

namespace Loom.Cli.Commands;

/// <summary>
/// `loom speech-translate RUN file.wav --to es`: cascade speech translation — the keyword-spotting run recognises the
/// spoken word (speech → English text), then a word table translates it (text → text).
/// </summary>
internal static class SpeechTranslateCommand
{
    public static Command Build(IAnsiConsole console)
    {
        var run = new Argument<string>("run") { Description = "a run folder written by loom train on an audio folder" };
        var audio = new Argument<string>("audio") { Description = "a .wav clip of one spoken word" };
        var to = new Option<string>("--to") { Description = $"the target language ({string.Join(", ", WordTable.BuiltinLanguages)} built in)", Required = true };
        var table = new Option<string?>("--table") { Description = "a word table of \"english<TAB>translation\" lines instead of the built-in one" };
        var best = new Option<bool>("--best") { Description = "use the run's best.safetensors (lowest validation loss)" };
        var command = new Command("speech-translate", "Recognise a spoken word with a keyword-spotting run and translate it (a cascade through a word table)") { run, audio, to, table, best };
        command.SetAction(parse =>
        {
            string language = parse.GetValue(to)!;
            var words = parse.GetValue(table) is { } file ? WordTable.Read(file, language) : WordTable.Builtin(language);
            var spotter = KeywordSpotter.Load(new RunFolder(RunOptions.ExistingRun(parse.GetValue(run)!)), "speech-translate", parse.GetValue(best));
            var (word, probability) = spotter.Classify(WavFile.Read(parse.GetValue(audio)!));
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
