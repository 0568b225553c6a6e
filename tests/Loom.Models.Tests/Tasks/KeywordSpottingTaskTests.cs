namespace Loom.Models.Tests.Tasks;

public class KeywordSpottingTaskTests
{
    private static void Clip(string path, double hz, int rate = 16000, double seconds = 0.5)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        WavFile.Write(path, [.. Enumerable.Range(0, (int)(rate * seconds)).Select(i => (float)(0.3 * Math.Sin(2 * Math.PI * hz * i / rate)))], rate);
    }

    [Fact]
    public void A_folder_of_class_folders_of_wav_clips_is_audio_for_keyword_spotting_with_the_cnn_by_default()
    {
        using var dir = new TempFolder();
        Clip(dir.File("yes/a.wav"), 400);
        Clip(dir.File("no/a.wav"), 900);
        var resolved = Models.Tasks.Resolve(new TrainingConfig { Data = dir.Path });
        Assert.Equal(KeywordSpottingTask.TaskName, resolved.Task.Name);
        Assert.Equal(KeywordModels.Cnn, resolved.Config.Model);
        Assert.Equal(KeywordModels.DepthwiseSeparable, Models.Tasks.Resolve(new TrainingConfig { Data = dir.Path, Model = KeywordModels.DepthwiseSeparable }).Config.Model);
        var e = Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(new TrainingConfig { Data = dir.Path, Model = "lenet5" }));
        Assert.Contains("kws-cnn or kws-dscnn", e.Message);
        // A single clip and a flat folder of clips are audio too (new data for predict and eval).
        Assert.Equal(KeywordSpottingTask.Audio, new KeywordSpottingTask().Recognize(dir.File("yes/a.wav")));
        Assert.Equal(KeywordSpottingTask.Audio, new KeywordSpottingTask().Recognize(dir.File("yes")));
    }

    [Fact]
    public void An_image_folder_is_still_classification()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("cat"));
        File.WriteAllBytes(dir.File("cat/a.png"), [1]);
        Assert.Null(new KeywordSpottingTask().Recognize(dir.Path));
    }

    [Theory]
    [InlineData(KeywordModels.Cnn)]
    [InlineData(KeywordModels.DepthwiseSeparable)]
    public void Both_models_map_a_batch_of_log_mel_maps_to_one_score_per_class(string name)
    {
        var model = KeywordModels.Create(name, 40, 98, 12);
        model.Eval();
        var y = model.Forward(Tensor.Randn(3, 1, 40, 98));
        Assert.Equal([3, 12], y.Shape.ToArray());
    }

    [Fact]
    public void The_depthwise_separable_model_is_depthwise()
    {
        // A full 3×3 convolution of 64 → 64 channels has 36,864 weights; a depthwise one 576.
        var model = KeywordModels.CreateDsCnn(12, 0.1);
        var weights = model.NamedParameters().Where(p => p.Name.EndsWith("weight") && p.Parameter.Shape.Rank == 4).Select(p => p.Parameter.Shape.ToArray()).ToList();
        Assert.Equal(4, weights.Count(s => s is [64, 1, 3, 3]));
        Assert.Equal(4, weights.Count(s => s is [64, 64, 1, 1]));
    }

    [Fact]
    public void Training_data_loads_with_augmented_copies_and_a_stratified_test_split()
    {
        using var dir = new TempFolder();
        for (int i = 0; i < 10; i++)
        {
            Clip(dir.File($"low/{i}.wav"), 300 + 10 * i);
            Clip(dir.File($"high/{i}.wav"), 2000 + 10 * i, rate: 22050);
        }
        var config = Models.Tasks.Resolve(new TrainingConfig { Data = dir.Path, TaskOptions = new() { ["augment_copies"] = 2 } }).Config;
        var data = (KeywordSpottingData)new KeywordSpottingTask().Load(config);
        Assert.Equal(["high", "low"], data.ClassNames);
        Assert.Equal(4, data.Test.Count);
        Assert.Equal(16 * 3, data.Train.Count);
        Assert.Equal([48, 1, 40, 98], data.Train.Inputs.Shape.ToArray());
        // Augmented copies differ from their clean clip; the labels repeat with them.
        var x = data.Train.Inputs.ToArray<float>();
        int size = 40 * 98;
        Assert.NotEqual(x.AsSpan(0, size).ToArray(), x.AsSpan(16 * size, size).ToArray());
        var y = data.Train.Targets.ToArray<long>();
        Assert.Equal(y[..16], y[16..32]);
        // Loading is reproducible, augmentation included.
        var again = (KeywordSpottingData)new KeywordSpottingTask().Load(config);
        Assert.Equal(x, again.Train.Inputs.ToArray<float>());

        // The validation hold-out and cross-validation folds go by clip: no copy of a validating clip is trained on.
        var (train, validation) = data.HoldOut(0.25, seed: 1);
        Assert.Equal(4, validation.Count);
        Assert.Equal(12 * 3, train.Count);
        AssertDisjoint(train, validation);
        var fold = (KeywordSpottingData)data.Fold([.. Enumerable.Range(0, 48).Where(r => r % 16 >= 1)], [0, 17, 35]);
        Assert.Equal(3, fold.Test.Count);
        Assert.Equal(3 * 13, fold.Train.Count);
        AssertDisjoint(fold.Train, fold.Test);
    }

    // Every row of `held` (a clean clip) differs from every clean row among `train`, so no clip is in both: the clean
    // rows of training clips are the first third, and an augmented copy never equals its clean clip.
    private static void AssertDisjoint(IDataset<Sample> train, IDataset<Sample> held)
    {
        var trained = Enumerable.Range(0, train.Count).Select(i => train[i].Input.ToArray<float>()).ToList();
        for (int i = 0; i < held.Count; i++)
        {
            var row = held[i].Input.ToArray<float>();
            Assert.DoesNotContain(trained, t => t.AsSpan().SequenceEqual(row));
        }
    }

    [Fact]
    public void New_data_files_named_after_a_class_or_its_digit_are_labelled_and_the_rest_left_out()
    {
        using var dir = new TempFolder();
        foreach (var name in new[] { "7", "zero", "10", "h-1" }) Clip(dir.File($"{name}.wav"), 500);
        var (clips, notes) = AudioClips.NewData(dir.Path, ["_silence_", "seven", "zero"]);
        Assert.Equal(["7.wav", "zero.wav"], clips.Select(c => Path.GetFileName(c.File)));
        Assert.Equal([1, 2], clips.Select(c => c.Label!.Value));
        Assert.Contains("2 others left out", Assert.Single(notes));
        // No name matches: every clip, unlabelled.
        var (unlabelled, _) = AudioClips.NewData(dir.Path, ["yes", "no"]);
        Assert.Equal(4, unlabelled.Count);
        Assert.All(unlabelled, c => Assert.Null(c.Label));
    }

    [Fact]
    public void Word_tables_translate_and_a_bad_table_names_its_line()
    {
        Assert.Equal("siete", WordTable.Builtin("es").Translate("seven"));
        Assert.Equal("sieben", WordTable.Builtin("de").Translate("Seven"));
        Assert.Contains("no built-in word table", Assert.Throws<ArgumentException>(() => WordTable.Builtin("xx")).Message);
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("t.tsv"), "# digits\nseven\tsette\n\nnine nove\n");
        Assert.Equal("t.tsv:4: expected \"english<TAB>translation\", got \"nine nove\"", Path.GetFileName(Assert.Throws<InvalidDataException>(() => WordTable.Read(dir.File("t.tsv"), "it")).Message));
        File.WriteAllText(dir.File("t.tsv"), "seven\tsette\n");
        Assert.Equal("sette", WordTable.Read(dir.File("t.tsv"), "it").Translate("seven"));
    }
}
