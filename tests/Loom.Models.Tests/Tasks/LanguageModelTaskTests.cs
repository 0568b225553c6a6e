namespace Loom.Models.Tests.Tasks;

/// <summary>Text picks the language-model task and its defaults; the data is split by position and the baselines are fitted on training text only.</summary>
public sealed class LanguageModelTaskTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Text(string name = "story.txt", int repeats = 60)
    {
        var path = _temp.File(name);
        File.WriteAllText(path, string.Concat(Enumerable.Range(0, repeats).Select(i => $"The cat sat on mat number {i % 7}. A dog ran to the park.\n")));
        return path;
    }

    [Fact]
    public void A_text_file_is_a_language_model_with_gpt_small_adamw_warmup_cosine_and_bpe()
    {
        var resolved = Models.Tasks.Resolve(new TrainingConfig { Data = Text() });
        Assert.Same(LanguageModelTask.Text, resolved.Kind);
        var c = resolved.Config;
        Assert.Equal(("language-model", "gpt-small"), (c.Task, c.Model));
        Assert.Equal(("adamw", 1e-3, "warmup-cosine", 0.1, 1.0, 16), (c.Optimizer, c.LearningRate!.Value, c.Schedule, c.WeightDecay!.Value, c.ClipGradNorm!.Value, c.BatchSize!.Value));
        Assert.Equal("bpe", c.GetTaskOptions<LanguageModelOptions>().Tokenizer);
        Assert.Equal(c.ToJson(), Models.Tasks.Resolve(c).Config.ToJson());
    }

    [Fact]
    public void Given_options_win_over_the_task_defaults_and_gpt2_reads_gpt2_tokens()
    {
        var c = Models.Tasks.Resolve(new TrainingConfig { Data = Text(), Model = "gpt2", LearningRate = 3e-4, Optimizer = "adam" }).Config;
        Assert.Equal(("adam", 3e-4, "warmup-cosine"), (c.Optimizer, c.LearningRate!.Value, c.Schedule));
        Assert.Equal("gpt2", c.GetTaskOptions<LanguageModelOptions>().Tokenizer);
        var classifier = Models.Tasks.Resolve(new TrainingConfig { Data = "digits" }).Config;
        Assert.Equal(("adam", 2e-3, "cosine", 0.0, 64), (classifier.Optimizer, classifier.LearningRate!.Value, classifier.Schedule, classifier.ClipGradNorm!.Value, classifier.BatchSize!.Value));
    }

    [Fact]
    public void A_folder_of_text_files_is_text_but_a_folder_with_other_files_is_images()
    {
        var folder = Directory.CreateDirectory(_temp.File("texts")).FullName;
        File.WriteAllText(Path.Combine(folder, "a.txt"), "one");
        File.WriteAllText(Path.Combine(folder, "b.md"), "two");
        Assert.Equal("language-model", Models.Tasks.Resolve(new TrainingConfig { Data = folder }).Config.Task);
        File.WriteAllText(Path.Combine(folder, "c.png"), "");
        Assert.Equal("classification", Models.Tasks.Resolve(new TrainingConfig { Data = folder }).Config.Task);
    }

    [Fact]
    public void A_file_without_a_text_extension_is_text_only_when_the_language_model_is_asked_for()
    {
        var corpus = Text("corpus");
        var e = Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(new TrainingConfig { Data = corpus }));
        Assert.Contains("unsupported file type", e.Message);
        var asked = Models.Tasks.Resolve(new TrainingConfig { Data = corpus, Task = "language-model", Model = "gpt-tiny" });
        Assert.Same(LanguageModelTask.Text, asked.Kind);
        var config = asked.Config.WithTaskOptions(asked.Config.GetTaskOptions<LanguageModelOptions>() with { Context = 8 });
        var data = (LanguageModelData)new LanguageModelTask().Load(config);
        Assert.True(data.Train.Count > 0);
    }

    [Fact]
    public void A_csv_is_a_language_model_only_when_asked_and_needs_its_text_column()
    {
        var csv = _temp.File("posts.csv");
        File.WriteAllText(csv, "id,body\n" + string.Concat(Enumerable.Range(0, 200).Select(i => $"{i},\"post {i % 9}, with words and more words\"\n")));
        // A CSV with a text column is labelled text for a classifier unless the language model is asked for.
        Assert.Equal("text-classification", Models.Tasks.Resolve(new TrainingConfig { Data = csv }).Config.Task);
        var asked = Models.Tasks.Resolve(new TrainingConfig { Data = csv, Task = "language-model", Model = "gpt-tiny" }).Config;
        var e = Assert.Throws<ArgumentException>(() => new LanguageModelTask().Load(asked));
        Assert.Contains("--text-column", e.Message);
        var data = (LanguageModelData)new LanguageModelTask().Load(asked.WithTaskOptions(asked.GetTaskOptions<LanguageModelOptions>() with { TextColumn = "body", Context = 8 }));
        Assert.True(data.Train.Count > 0);
    }

    [Fact]
    public void Splits_are_by_position_and_the_baselines_see_only_the_tokens_before_validation()
    {
        // 1,000 characters: "ab…a" up to 811, "c" from 811 to 900, then the test tenth, "ab" again. Validation is the
        // last tenth of the 900 training tokens (the document goes on into the test split, so no eos): "a" and the "c"s,
        // none of which training sees.
        var path = _temp.File("abc.txt");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("ab", 405)) + "a" + new string('c', 89) + string.Concat(Enumerable.Repeat("ab", 50)));
        var config = Models.Tasks.Resolve(new TrainingConfig
        {
            Data = path, Model = "gpt-tiny",
            TaskOptions = new JsonObject { ["tokenizer"] = "char", ["context"] = 8 },
        }).Config;
        var data = (LanguageModelData)new LanguageModelTask().Load(config);
        var (train, validation) = data.HoldOut(0.1, seed: 0);
        int c = data.Tokenizer.Encode("c")[0];
        Assert.DoesNotContain((long)c, ((TensorDataset)train).Inputs.ToArray<long>());
        int eos = data.Tokenizer.Special.Eos!.Value;
        Assert.All(((TensorDataset)validation).Targets.ToArray<long>(), t => Assert.True(t == c || t == eos, $"validation target {t}"));
        Assert.DoesNotContain((long)c, data.Test.Inputs.ToArray<long>());
        // Add-one smoothing of a token never seen in training: 1 / (training tokens + vocabulary).
        Assert.Equal(1.0 / (810 + data.Tokenizer.VocabSize), data.Baseline.UnigramProbability(c), 12);
    }

    [Fact]
    public void Bigram_probabilities_sum_to_one_and_match_hand_computed_values()
    {
        // Stream 0 1 0 2 0 1 over a vocabulary of 3: c(0) = 3 as a context, successors {1: 2, 2: 1}.
        var baseline = new NGramBaseline([0, 1, 0, 2, 0, 1], vocab: 3);
        Assert.Equal((3 + 1.0) / (6 + 3), baseline.UnigramProbability(0), 12);
        double p1 = (2 - 0.75 + 0.75 * 2 * (2 + 1.0) / 9) / 3;
        Assert.Equal(p1, baseline.BigramProbability(0, 1), 12);
        for (int v = 0; v < 3; v++)
            Assert.Equal(1, Enumerable.Range(0, 3).Sum(w => baseline.BigramProbability(v, w)), 12);
    }
}

/// <summary>`loom train --model gpt2 --weights model.safetensors`: fine-tuning starts from the checkpoint's weights.</summary>
public sealed class FineTuningTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Training_with_weights_starts_from_the_gpt2_checkpoint()
    {
        var checkpoint = Path.Combine(AppContext.BaseDirectory, "golden", "gpt2", "model.safetensors");
        var text = _temp.File("t.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 200)));
        var config = new TrainingConfig
        {
            Data = text, Model = "gpt2", Epochs = 1, Threads = 1,
            TaskOptions = new JsonObject { ["tokenizer"] = "char", ["context"] = 16, ["weights"] = checkpoint },
        };
        var setup = Pipeline.Prepare(config, null);
        var expected = Gpt2Checkpoint.Load(checkpoint, heads: 4);
        var model = (Gpt)setup.Model;
        Assert.Equal(expected.Config with { Dropout = config.Dropout }, model.Config);
        Assert.Equal(expected.Wte.Weight.ToArray<float>(), model.Wte.Weight.ToArray<float>());
        Assert.Equal(expected.H[1].Mlp.CProj.Weight.ToArray<float>(), model.H[1].Mlp.CProj.Weight.ToArray<float>());
        Assert.True(model.Training);

        var tooLong = config.WithTaskOptions(config.GetTaskOptions<LanguageModelOptions>() with { Context = 64 });
        Assert.Contains("longer than the 32 positions", Assert.Throws<ArgumentException>(() => Pipeline.Prepare(tooLong, null)).Message);
        Assert.Contains("--model gpt2", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(config with { Model = "gpt-tiny" })).Message);
    }
}
