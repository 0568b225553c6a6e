namespace Loom.Models.Tests.Tasks;

/// <summary>The task and model follow the data unless given; what does not fit is refused with a message naming the option.</summary>
public sealed class TaskResolutionTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static ResolvedConfig Resolve(string data, string? model = null, string? task = null) =>
        Models.Tasks.Resolve(new TrainingConfig { Data = data, Model = model, Task = task });

    [Fact]
    public void A_built_in_image_dataset_is_classification_with_a_cnn_by_default()
    {
        var resolved = Resolve("digits");
        Assert.Same(DataKind.Images, resolved.Kind);
        Assert.IsType<ClassificationTask>(resolved.Task);
        Assert.Equal(("classification", "cnn"), (resolved.Config.Task, resolved.Config.Model));
    }

    [Fact]
    public void A_csv_table_is_classification_with_an_mlp_by_default()
    {
        var resolved = Resolve(TestFiles.TableCsv(_temp.Path));
        Assert.Same(DataKind.Table, resolved.Kind);
        Assert.Equal(("classification", "mlp"), (resolved.Config.Task, resolved.Config.Model));
    }

    [Fact]
    public void A_folder_is_images_with_a_cnn_by_default()
    {
        var resolved = Resolve(_temp.Path);
        Assert.Same(DataKind.Images, resolved.Kind);
        Assert.Equal("cnn", resolved.Config.Model);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("lenet5")]
    public void A_model_given_for_images_overrides_the_default(string model) =>
        Assert.Equal(model, Resolve("digits", model).Config.Model);

    [Theory]
    [InlineData("cnn")]
    [InlineData("lenet5")]
    public void An_image_model_on_a_table_is_refused_naming_the_model_that_fits(string model)
    {
        var csv = TestFiles.TableCsv(_temp.Path);
        var e = Assert.Throws<ArgumentException>(() => Resolve(csv, model));
        Assert.Equal($"--model {model} does not fit a CSV table ({csv}); classification of a CSV table uses mlp or onnx", e.Message);
    }

    [Fact]
    public void An_unknown_model_lists_the_zoo()
    {
        var e = Assert.Throws<ArgumentException>(() => Resolve("digits", "resnet"));
        Assert.Equal("--model must be one of mlp, cnn, lenet5, resnet-mini, face-fcn, resnet18, onnx, gpt-tiny, gpt-small, gpt2, kws-cnn, kws-dscnn, centernet, centernet-wide, face-embedder, face-resnet, textcnn, bilstm, transformer, fasttext, minilm, minilm-fasttext, translation-transformer, translation-lstm, seq2seq; got 'resnet'", e.Message);
    }

    [Fact]
    public void An_unknown_task_lists_the_tasks()
    {
        var e = Assert.Throws<ArgumentException>(() => Resolve("digits", task: "poetry"));
        Assert.Equal("--task must be one of detection, face-verification, keyword-spotting, translation, summarization, language-model, text-classification, classification; got 'poetry'", e.Message);
    }

    [Fact]
    public void Missing_data_is_a_file_not_found_naming_it()
    {
        var missing = _temp.File("nowhere.csv");
        var e = Assert.Throws<FileNotFoundException>(() => Resolve(missing));
        Assert.StartsWith($"--data {missing}: no such built-in dataset, file or folder", e.Message);
        Assert.Throws<FileNotFoundException>(() => Resolve(missing, task: "classification"));
    }

    [Fact]
    public void A_file_no_task_reads_is_refused_saying_what_is_read()
    {
        var text = _temp.File("notes.json");
        File.WriteAllText(text, "{}");
        Assert.StartsWith($"--data {text}: unsupported file type; give composed scenes (digit-scenes: MNIST digits", Assert.Throws<ArgumentException>(() => Resolve(text)).Message);
        Assert.Contains("; or an audio folder (one sub-folder of .wav clips per word", Assert.Throws<ArgumentException>(() => Resolve(text)).Message);
        Assert.Contains("; or a text file (.txt, .text, .md, or any UTF-8 file with --task language-model), a folder of text files", Assert.Throws<ArgumentException>(() => Resolve(text)).Message);
        Assert.Contains("; or a .csv file (with --target)", Assert.Throws<ArgumentException>(() => Resolve(text)).Message);
        Assert.StartsWith($"--task classification does not take --data {text}; it takes a .csv file", Assert.Throws<ArgumentException>(() => Resolve(text, task: "classification")).Message);
    }

    [Fact]
    public void Resolving_keeps_only_the_task_options_with_defaults_filled_in_and_changes_nothing_when_repeated()
    {
        var given = new TrainingConfig { TaskOptions = new JsonObject { ["hidden"] = 8, ["context_length"] = 64 } };
        var resolved = Models.Tasks.Resolve(given).Config;

        Assert.Equal([28, 28], resolved.GetTaskOptions<ClassificationOptions>().ImageSize);
        Assert.Equal(8, resolved.GetTaskOptions<ClassificationOptions>().Hidden);
        Assert.Equal(["categorical", "ignore", "hidden", "image_size", "image_channels"], resolved.TaskOptions!.Select(p => p.Key));
        Assert.Equal(resolved.ToJson(), Models.Tasks.Resolve(resolved).Config.ToJson());
    }

    [Theory]
    [InlineData("hidden", 0, "--hidden must be at least 1, got 0")]
    [InlineData("image_channels", 2, "--channels must be 1 or 3, got 2")]
    public void An_invalid_task_option_is_refused_naming_it(string key, int value, string message)
    {
        var config = new TrainingConfig { TaskOptions = new JsonObject { [key] = value } };
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(config)).Message);
    }

    [Fact]
    public void Every_task_default_model_is_in_the_zoo_and_fits_its_data()
    {
        foreach (var task in Models.Tasks.All)
            foreach (var kind in task.Kinds)
            {
                Assert.NotEmpty(task.Models(kind));
                Assert.All(task.Models(kind), m => Assert.True(ModelZoo.Models.ContainsKey(m), $"{task.Name} names '{m}', which the zoo lacks"));
            }
    }
}
