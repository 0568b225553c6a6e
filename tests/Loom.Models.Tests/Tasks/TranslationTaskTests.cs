using Xunit.Abstractions;

namespace Loom.Models.Tests.Tasks;

/// <summary>Parallel data readers, the packed sentence pairs, and a quick translation run end to end.</summary>
public sealed class TranslationTaskTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly (string En, string Es)[] Adjectives = [("red", "rojo"), ("big", "grande"), ("old", "viejo"), ("black", "negro"), ("small", "pequeño"), ("white", "blanco")];
    private static readonly (string En, string Es)[] Nouns = [("dog", "perro"), ("cat", "gato"), ("horse", "caballo"), ("bird", "pájaro"), ("fish", "pez"), ("bull", "toro")];
    private static readonly (string En, string Es)[] Verbs = [("sees", "ve"), ("eats", "come")];

    /// <summary>
    /// "the red dog sees the cat" → "el perro rojo ve el gato": a toy English → Spanish with the adjective moved after
    /// its noun, in ten groups (the third column), shuffled so that every group holds every word.
    /// </summary>
    private string ToyTsv()
    {
        var random = new System.Random(4);
        var lines = new List<string>();
        foreach (var a in Adjectives)
            foreach (var n in Nouns)
                foreach (var v in Verbs)
                    foreach (var m in Nouns)
                        lines.Add($"the {a.En} {n.En} {v.En} the {m.En}\tel {n.Es} {a.Es} {v.Es} el {m.Es}");
        var shuffled = lines.OrderBy(_ => random.Next()).Select((l, i) => $"{l}\tg{i % 10}").ToList();
        var path = _temp.File("toy.tsv");
        File.WriteAllLines(path, shuffled);
        return path;
    }

    [Fact]
    public void A_tsv_of_pairs_keeps_its_groups_and_malformed_lines_name_the_file_and_line()
    {
        var corpus = ParallelCorpus.FromTsv(ToyTsv());
        Assert.Equal(432, corpus.Pairs.Count);
        Assert.Equal(10, corpus.Books.Count);
        var bad = _temp.File("bad.tsv");
        File.WriteAllText(bad, "one\tuno\n\ntwo dos\n");
        Assert.Equal($"{bad}:3: expected source<TAB>target or source<TAB>target<TAB>group, got 1 column", Assert.Throws<InvalidDataException>(() => ParallelCorpus.FromTsv(bad)).Message);
        var plain = _temp.File("plain.tsv");
        File.WriteAllLines(plain, Enumerable.Range(0, 20).Select(i => $"s{i}\tt{i}"));
        var parts = ParallelCorpus.FromTsv(plain);
        Assert.Equal(10, parts.Books.Count); // tenths of the file
        Assert.Equal(["s0", "s1"], parts.Pairs.Where(p => p.Book == "part 1").Select(p => p.Source));
    }

    [Fact]
    public void Two_aligned_text_files_must_have_a_sentence_on_both_sides_of_every_line()
    {
        string en = _temp.File("a.en"), es = _temp.File("a.es");
        File.WriteAllLines(en, ["one", "", "three"]);
        File.WriteAllLines(es, ["uno", "", "tres"]);
        Assert.Equal(["one", "three"], ParallelCorpus.FromTextFiles(en, es).Pairs.Select(p => p.Source));
        File.WriteAllLines(es, ["uno", "dos", "tres"]);
        Assert.Equal($"{en}:2: an empty line where the other file has a sentence", Assert.Throws<InvalidDataException>(() => ParallelCorpus.FromTextFiles(en, es)).Message);
        File.WriteAllLines(es, ["uno"]);
        Assert.Contains("has 3 lines but", Assert.Throws<InvalidDataException>(() => ParallelCorpus.FromTextFiles(en, es)).Message);
    }

    [Fact]
    public void Packed_pairs_hold_source_and_eos_then_bos_and_target_with_targets_shifted_and_padding_ignored()
    {
        var tokenizer = new WordTokenizer(["a", "b", "c"]); // ids 4, 5, 6
        var packed = TranslationData.Pack(tokenizer, [([4, 5], [6]), ([4], [5, 6, 4])]);
        Assert.Equal([2, 2, 4], packed.Inputs.Shape.Dims.ToArray());
        Assert.Equal(new long[] { 4, 5, 2, 0, 1, 6, 0, 0, 4, 2, 0, 0, 1, 5, 6, 4 }, packed.Inputs.ToArray<long>());
        Assert.Equal(new long[] { 6, 2, -100, -100, 5, 6, 4, 2 }, packed.Targets.ToArray<long>());
        // A batch of the first pair alone is cut to its own lengths.
        var (source, target) = SentencePairs.Unpack(packed.Inputs.Narrow(0, 0, 1));
        Assert.Equal(new long[] { 4, 5, 2 }, source.ToArray<long>());
        Assert.Equal(new long[] { 1, 6 }, target.ToArray<long>());
    }

    [Fact]
    public void Bible_data_is_claimed_by_translation_and_a_tsv_only_when_asked()
    {
        var tsv = ToyTsv();
        Assert.Equal(("translation", "translation-transformer"), Resolve(TranslationData.BibleName));
        Assert.Equal(("translation", "translation-lstm"), Resolve(tsv, "translation", "translation-lstm"));
        Assert.NotEqual("translation", Models.Tasks.Resolve(new TrainingConfig { Data = tsv }).Config.Task);

        static (string?, string?) Resolve(string data, string? task = null, string? model = null) =>
            Models.Tasks.Resolve(new TrainingConfig { Data = data, Task = task, Model = model }).Config switch { var c => (c.Task, c.Model) };
    }

    // The LSTM learns the reordering more slowly than the transformer: more epochs, and a lower bar.
    [Theory]
    [InlineData("translation-transformer", 12, 50)]
    [InlineData("translation-lstm", 24, 10)]
    public void A_quick_run_translates_held_out_sentences_far_better_than_the_untrained_model(string model, int epochs, double gain)
    {
        var config = new TrainingConfig
        {
            Data = ToyTsv(), Task = "translation", Model = model, Epochs = epochs, Threads = 2, LearningRate = 1e-2, ValidationFraction = 0,
            TaskOptions = new JsonObject { ["quick"] = true, ["beam"] = 3 },
        };
        var setup = Pipeline.Prepare(config, null);
        var data = (TranslationData)setup.Data;
        Assert.Equal(["g4"], data.TestPairs.Select(p => p.Book).Distinct());
        Assert.DoesNotContain(data.TrainPairs, p => p.Book == "g4");
        double untrained = setup.Task.Evaluate(setup.Trainer.Evaluator, setup.Data, setup.TestLoader).Metrics["bleu"];
        var result = Pipeline.Train(setup, new RunFolder(_temp.File("run")));
        var test = Assert.IsType<TranslationEvaluation>(result.Test);
        output.WriteLine($"{model}: untrained BLEU {untrained:F2}, trained {test.Metrics["bleu"]:F2} (greedy {test.Metrics["bleu_greedy"]:F2}), dictionary {test.Metrics["bleu_dictionary"]:F2}");
        Assert.True(test.Metrics["bleu"] > untrained + gain, $"BLEU {test.Metrics["bleu"]:F2} after training, {untrained:F2} before");
        var report = File.ReadAllText(Path.Combine(_temp.File("run"), "report.md"));
        Assert.Contains("## BLEU on the held-out data", report);
        Assert.Contains("word-by-word dictionary", report);
        Assert.Contains("## Example translations", report);

        // The run keeps the dictionary it was scored with, and loading the run reads it rather than fitting it again:
        // an edited file is what the loaded run's baseline holds.
        var dictionaryPath = Path.Combine(_temp.File("run"), WordDictionary.FileName);
        Assert.Equal(data.Baseline!.Count, File.ReadAllLines(dictionaryPath).Length);
        File.WriteAllLines(dictionaryPath, ["the\tun"]);
        var reloaded = (TranslationData)Pipeline.Load(new RunFolder(_temp.File("run"))).Data;
        Assert.Equal((1, "un"), (reloaded.Baseline!.Count, reloaded.Baseline.Lookup("the")));

        var translator = TranslationTask.LoadTranslator(new RunFolder(_temp.File("run")));
        var translated = translator.Translate(["the white horse eats the bird", "the small fish sees the dog"]);
        output.WriteLine(string.Join(" | ", translated));
        Assert.Equal(2, translated.Length);
        Assert.All(translated, t => Assert.NotEmpty(t));
    }
}
