namespace Loom.Data.Tests.Audio;

public class SpeechCommandsGeneratorTests
{
    [SynthesizersFact]
    public void Writes_one_folder_per_word_plus_unknown_and_silence_and_the_manifest_it_claims()
    {
        SpeechData.Synthesizers.Require();
        using var dir = new TempDir();
        var output = Path.Combine(dir.Path, "commands");
        var result = SpeechCommandsGenerator.Generate(new SpeechCommandsOptions { Words = ["yes", "no"], Output = output, PerWord = 3, Jobs = 2 });

        Assert.Equal(["_silence_", "_unknown_", "no", "yes"], Directory.GetDirectories(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var lines = File.ReadAllLines(result.Manifest);
        Assert.Equal("file,label,split,synthesizer,voice,text,speed,pitch", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        // Per word: 3 espeak-ng clips, 5 flite voices × 3 speeds, 3 festival voices × 3 speeds; silence: 3 clips.
        Assert.Equal(3 + 15 + 9, rows.Count(r => r[1] == "yes"));
        Assert.Equal(3 + 15 + 9, rows.Count(r => r[1] == "_unknown_"));
        Assert.Equal(3, rows.Count(r => r[1] == "_silence_"));
        Assert.Equal(rows.Count, result.Clips);
        foreach (var r in rows)
        {
            var audio = WavFile.Read(Path.Combine(output, r[0]));
            Assert.True(audio.Seconds > 0.2, $"{r[0]} lasts {audio.Seconds:F2} s");
            Assert.Equal(r[1], r[0].Split('/')[0]);
            Assert.Contains(r[2], new[] { "train", "validation", "test" });
            if (r[1] is "yes" or "no") Assert.Equal(r[1], r[5]);
            if (r[1] == "_unknown_") Assert.DoesNotContain(r[5], new[] { "yes", "no" });
            if (r[3] == "espeak-ng") Assert.Equal(SpeechCommandsGenerator.VariantSplit(r[4].Split('+')[1]), r[2]);
            if (r[1] != "_silence_") Assert.True(AudioAugment.Power(audio.Mono()) > 1e-5, $"{r[0]} is silent");
        }
        Assert.Equal(3, rows.Where(r => r[3] == "festival").Select(r => r[4]).Distinct().Count());
        Assert.Equal(5, rows.Where(r => r[3] == "flite").Select(r => r[4]).Distinct().Count());
    }

    [Fact]
    public void Bad_requests_are_refused_before_anything_is_synthesised()
    {
        using var dir = new TempDir();
        string Error(SpeechCommandsOptions o) => Assert.Throws<ArgumentException>(() => SpeechCommandsGenerator.Generate(o)).Message;
        var ok = new SpeechCommandsOptions { Words = ["yes"], Output = Path.Combine(dir.Path, "out"), Synthesizers = [] };
        Assert.Contains("names none", Error(ok));
        Assert.Contains("unknown synthesiser 'sam'", Error(ok with { Synthesizers = ["sam"] }));
        Assert.Contains("'yes' twice", Error(ok with { Words = ["yes", "Yes"], Synthesizers = ["flite"] }));
        Assert.Contains("'_unknown_' is the name of a class", Error(ok with { Words = ["_unknown_"] }));
        Assert.Contains("'a/b' is not a word", Error(ok with { Words = ["a/b"] }));
        File.WriteAllText(dir.File("x"), "");
        Assert.Contains("is not empty", Error(ok with { Output = dir.Path, Synthesizers = ["espeak-ng"] }).Replace(dir.Path, ""));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "out")));
    }
}
