namespace Loom.Cli.Commands;

/// <summary>What the verbs that run a keyword-spotting model on a recording share: the run, the .wav file and --best.</summary>
internal sealed class SpotterArguments(string audioDescription)
{
    public Argument<string> Run { get; } = new("run") { Description = "a run folder written by loom train on an audio folder" };

    public Argument<string> Audio { get; } = new("audio") { Description = audioDescription };

    public Option<bool> Best { get; } = new("--best") { Description = "use the run's best.safetensors (lowest validation loss)" };

    public KeywordSpotter LoadSpotter(ParseResult parse, string verb) =>
        KeywordSpotter.Load(new RunFolder(RunOptions.ExistingRun(parse.GetValue(Run)!)), verb, parse.GetValue(Best));

    public Waveform ReadAudio(ParseResult parse) => WavFile.Read(parse.GetValue(Audio)!);
}
