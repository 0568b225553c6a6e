namespace Loom.Cli.Tests;

/// <summary>`loom train --task translation` on a TSV of pairs, `loom translate RUN --text`, and their errors.</summary>
public sealed class TranslateCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    // Number words: "two three" → "dos tres"; the held-out group is the fifth tenth of the file.
    private string Pairs()
    {
        string[] en = ["one", "two", "three", "four", "five"], es = ["uno", "dos", "tres", "cuatro", "cinco"];
        var lines = new List<string>();
        for (int rep = 0; rep < 4; rep++)
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 5; j++) lines.Add($"{en[i]} {en[j]}\t{es[i]} {es[j]}");
        var path = _temp.File("numbers.tsv");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Train_on_a_tsv_writes_a_translation_run_that_translate_reads()
    {
        CliRunner.Succeed("train", "--data", Pairs(), "--task", "translation", "--quick", "--epochs", "10", "--lr", "1e-2", "--beam", "2", "--val-fraction", "0",
            "--output", _temp.File("runs"));
        var run = CliRunner.RunFolderUnder(_temp.File("runs"));
        Assert.Contains("\"task\": \"translation\"", File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Contains("## BLEU on the held-out data", File.ReadAllText(Path.Combine(run, "report.md")));
        var result = CliRunner.Succeed("translate", run, "--text", "one two", "--text", "five five", "--beam", "1");
        // One line per sentence, even an empty translation.
        Assert.Equal(2, result.Output.Split('\n').Length - 1);

        CliRunner.Fail(["translate", run], "--text");
        CliRunner.Fail(["translate", run, "--text", "one", "--beam", "0"], "--beam must be at least 1");
        CliRunner.Fail(["translate", run, "--text", " "], "an empty sentence has nothing to translate");
        var utf16 = _temp.File("sentences.txt");
        File.WriteAllBytes(utf16, Encoding.Unicode.GetBytes("one two\nfive five\n"));
        CliRunner.Fail(["translate", run, "--file", utf16], $"{utf16}: not UTF-8 text (a NUL byte at offset 1");
        var lines = _temp.File("lines.txt");
        File.WriteAllText(lines, "\uFEFFone two\r\n\r\nfive five\r\n");
        Assert.Equal(result.Output, CliRunner.Succeed("translate", run, "--file", lines, "--beam", "1").Output);
        CliRunner.Fail(["train", "--data", Pairs(), "--task", "translation", "--beam", "0", "--output", _temp.File("bad")], "--beam must be at least 1");

        // Weights of a model with other layers (a run of an older Loom): one line naming the file and the tensors.
        var weights = Path.Combine(run, "model.safetensors");
        var tensors = Loom.Nn.Serialization.SafeTensors.Load(weights).Tensors.Where(kv => !kv.Key.StartsWith("decoder.", StringComparison.Ordinal)).ToDictionary();
        Loom.Nn.Serialization.SafeTensors.Save(weights, tensors);
        CliRunner.Fail(["translate", run, "--text", "one"], "model.safetensors does not fit the translation-transformer", "missing (decoder.");
    }

    [Fact]
    public void Translate_refuses_a_run_of_another_task_in_one_line()
    {
        CliRunner.Succeed("train", "--data", "digits", "--epochs", "1", "--max-steps", "1", "--output", _temp.File("runs"));
        var run = CliRunner.RunFolderUnder(_temp.File("runs"));
        CliRunner.Fail(["translate", run, "--text", "hello"], "loom translate needs a translation run", "classification run");
    }
}
