namespace Loom.Cli.Tests;

/// <summary>One quick `loom train` of gpt-tiny on a small generated text, shared by the tests that read its run folder.</summary>
public sealed class TextRunFixture : IDisposable
{
    private readonly TempFolder _temp = new();

    public TextRunFixture()
    {
        TextPath = _temp.File("story.txt");
        System.IO.File.WriteAllText(TextPath, Story(900));
        Result = CliRunner.Succeed("train", "--data", TextPath, "--model", "gpt-tiny", "--tokenizer", "char", "--context", "32",
            "--epochs", "3", "--threads", "2", "--output", _temp.Path);
        Folder = CliRunner.RunFolderUnder(_temp.Path);
    }

    /// <summary>Sentences from a small grammar: regular enough for a tiny model to learn in seconds, varied enough not to be memorised.</summary>
    public static string Story(int sentences)
    {
        var rng = new System.Random(5);
        string[] who = ["the cat", "a dog", "the old man", "my sister", "the bird"], did = ["sat on", "looked at", "ran to", "found", "painted"],
            what = ["the mat", "a red door", "the garden", "the river", "an apple"];
        var sb = new StringBuilder();
        for (int i = 0; i < sentences; i++)
            sb.Append(CultureInfo.InvariantCulture.TextInfo.ToTitleCase(who[rng.Next(5)][..1])).Append(who[rng.Next(5)][1..]).Append(' ')
                .Append(did[rng.Next(5)]).Append(' ').Append(what[rng.Next(5)]).Append(i % 4 == 3 ? ".\n" : ". ");
        return sb.ToString();
    }

    public string TextPath { get; }

    internal CliResult Result { get; }

    public string Folder { get; }

    public string File(string name) => Path.Combine(Folder, name);

    public string Temp(string name) => _temp.File(name);

    public void Dispose() => _temp.Dispose();
}

public class LanguageModelCommandTests(TextRunFixture run) : IClassFixture<TextRunFixture>
{
    [Fact]
    public void Training_on_text_lowers_the_validation_loss_and_reports_perplexity_against_the_baselines()
    {
        var epochs = TestData.Metrics(run.Folder).Where(l => (string?)l["kind"] == "epoch").ToList();
        Assert.Equal(3, epochs.Count);
        double first = (double)epochs[0]["val_loss"]!, last = (double)epochs[^1]["val_loss"]!;
        Assert.True(last < first - 0.3, $"validation loss went from {first} to {last}");
        Assert.Equal(Math.Exp(last), (double)epochs[^1]["val_perplexity"]!, 3);
        var report = System.IO.File.ReadAllText(run.File("report.md"));
        Assert.Contains("## Perplexity against n-gram baselines", report);
        var row = report.Split('\n').Single(l => l.StartsWith("| validation |", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries);
        double model = double.Parse(row[2], CultureInfo.InvariantCulture), unigram = double.Parse(row[3], CultureInfo.InvariantCulture);
        Assert.True(model < unigram, $"the model's validation perplexity {model} is not below the unigram's {unigram}");
        Assert.Contains("language-model", System.IO.File.ReadAllText(run.File("config.json")));
        Assert.IsType<CharTokenizer>(Tokenizer.Load(run.File("tokenizer.json")));
    }

    [Fact]
    public void Generate_streams_a_continuation_reproducible_with_its_seed()
    {
        string[] args = ["generate", run.Folder, "--prompt", "The cat", "--tokens", "30", "--seed", "4", "--threads", "1"];
        var a = CliRunner.Succeed(args);
        Assert.StartsWith("The cat", a.Output);
        Assert.True(a.Output.TrimEnd().Length > "The cat".Length + 10, a.Output);
        Assert.Equal(a.Output, CliRunner.Succeed(args).Output);
    }

    [Fact]
    public void Greedy_generation_prints_what_the_trained_model_decodes()
    {
        var expected = LanguageModelTask.LoadGenerator(new Loom.Train.RunFolder(run.Folder)).Generate(["A dog "], new GenerationOptions(MaxTokens: 25, Temperature: 0))[0];
        var result = CliRunner.Succeed("generate", run.Folder, "--prompt", "A dog ", "--tokens", "25", "--temperature", "0");
        Assert.Equal("A dog " + expected, result.Output.TrimEnd('\n'));
    }

    [Fact]
    public void Several_prompts_decode_as_one_batch_and_print_in_order()
    {
        var result = CliRunner.Succeed("generate", run.Folder, "--prompt", "The bird", "--prompt", "My", "--tokens", "12", "--temperature", "0");
        var lines = result.Lines;
        Assert.Equal("--- 1 ---", lines[0]);
        Assert.StartsWith("The bird", lines[1]);
        Assert.Contains("--- 2 ---", lines);
        Assert.StartsWith("My", lines[Array.IndexOf(lines, "--- 2 ---") + 1]);
    }

    [Fact]
    public void Eval_and_predict_work_on_a_language_model_run()
    {
        var eval = CliRunner.Succeed("eval", run.Folder, "--threads", "1");
        Assert.Contains("perplexity", eval.Output);
        Assert.Contains("bigram", eval.Output);
        var csv = run.Temp("predictions.csv");
        CliRunner.Succeed("predict", run.Folder, "--output", csv, "--threads", "1");
        Assert.StartsWith("index,prompt,continuation,actual", System.IO.File.ReadAllText(csv));
    }

    [Fact]
    public void Eval_on_new_text_scores_all_of_it_with_the_runs_tokenizer()
    {
        var other = run.Temp("other.txt");
        System.IO.File.WriteAllText(other, TextRunFixture.Story(300).ToUpperInvariant().ToLowerInvariant());
        var eval = CliRunner.Succeed("eval", run.Folder, "--data", other, "--threads", "1");
        Assert.Contains("perplexity", eval.Output);
        // 300 sentences of about 30 characters in windows of 32: far more than the tenth a test split would hold.
        var samples = int.Parse(eval.Lines.Single(l => l.Contains("samples", StringComparison.Ordinal)).Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1], CultureInfo.InvariantCulture);
        Assert.True(samples > 200, $"{samples} windows scored");
    }

    [Fact]
    public void Generate_refuses_what_it_cannot_use_in_one_line()
    {
        static void OneError(CliResult r, string fragment)
        {
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(fragment, Assert.Single(r.ErrorLines));
            Assert.DoesNotContain("   at ", r.Output);
        }
        OneError(CliRunner.Run("generate", "--prompt", "x"), "name a run folder");
        OneError(CliRunner.Run("generate", run.Folder), "--prompt");
        OneError(CliRunner.Run("generate", run.Folder, "--prompt", "x", "--top-p", "2"), "--top-p");
        OneError(CliRunner.Run("generate", "--weights", run.Temp("none.safetensors"), "--tokenizer", "gpt2", "--prompt", "x"), "none.safetensors");
        OneError(CliRunner.Run("generate", "--weights", run.File("model.safetensors"), "--tokenizer", "gpt2", "--prompt", "x"), "(Conv1D, stored [in, out])"); // a Loom run stores Linear weights [out, in]
    }

    [Fact]
    public void Distill_from_a_language_model_is_refused_before_any_training()
    {
        // A teacher's soft targets are one row of class logits per sample; a language model's distillation trained
        // until the loss failed on the shapes ("cross_entropy: target shape [16, 32] does not match ...").
        var runs = run.Temp("distilled");
        CliRunner.Fail(["distill", "--teacher", run.Folder, "--model", "gpt-tiny", "--output", runs], "is a language-model run", "classification, text-classification, keyword-spotting or face-verification");
        Assert.False(Directory.Exists(runs) && Directory.EnumerateFileSystemEntries(runs).Any(), "a refused distillation left a run folder");
    }

    [Fact]
    public void Activations_attention_draws_each_blocks_heads_over_the_characters_of_a_text()
    {
        var result = CliRunner.Succeed("activations", run.Folder, "--attention", "--text", "The cat sat");
        // gpt-tiny: 2 blocks of 4 heads; the char tokenizer makes 11 tokens of "The cat sat".
        foreach (var block in new[] { "0", "1" })
        {
            Assert.Contains($"attention of h.{block}.attn: 4 heads over 11 tokens", result.Output);
            var picture = run.File($"explain/attention_h_{block}_attn.png");
            using var codec = SkiaSharp.SKCodec.Create(picture);
            Assert.Equal((4 * 420, 36 + 420), (codec.Info.Width, codec.Info.Height));
            Assert.Contains($"](explain/attention_h_{block}_attn.png)", System.IO.File.ReadAllText(run.File("explain.md")));
        }
        Assert.Contains("`T h e _ c a t _ s a t`", System.IO.File.ReadAllText(run.File("explain/attention.md")));
        // Without --text: the start of the first test window, at most 32 characters.
        Assert.Contains("over 32 tokens", CliRunner.Succeed("activations", run.Folder, "--attention").Output);
    }
}

/// <summary>`loom generate --weights model.safetensors --tokenizer gpt2`: a GPT-2-shaped checkpoint with GPT-2's 50,257-token vocabulary.</summary>
public sealed class Gpt2GenerateTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_gpt2_checkpoint_continues_a_prompt_in_gpt2_tokens()
    {
        Loom.Random.Generator.ManualSeed(8);
        var gpt = new Gpt(new GptConfig(Vocab: 50257, Dim: 16, Layers: 1, Heads: 2, Context: 64));
        var path = _temp.File("model.safetensors");
        Gpt2Checkpoint.Save(gpt, path);
        var expected = new TextGenerator(gpt, Gpt2Tokenizer.Instance).Generate(["Hello world"], new GenerationOptions(MaxTokens: 8, Temperature: 0))[0];
        var result = CliRunner.Succeed("generate", "--weights", path, "--tokenizer", "gpt2", "--heads", "2", "--prompt", "Hello world", "--tokens", "8", "--temperature", "0");
        Assert.Equal("Hello world" + expected, result.Output.TrimEnd('\n'));
    }
}
