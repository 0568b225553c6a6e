namespace Loom.Models.Tests.Tasks;

/// <summary>
/// `--model minilm`: a head on all-MiniLM-L6-v2's sentence embeddings (the NuGet package the build restores). Each text
/// is encoded once, for every fold and across runs (the cache file), and the trained head beats chance and its
/// untrained self under cross-validation.
/// </summary>
public sealed class PretrainedTextClassificationTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string? _cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");

    // The embedding cache goes to the test's folder, not the user's ~/.cache.
    public PretrainedTextClassificationTests() => Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _temp.File("cache"));

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _cacheHome);
        _temp.Dispose();
    }

    private static readonly string[] Subjects = ["the film", "this movie", "the story", "the acting", "the script", "the ending"],
        Good = ["delightful", "moving and beautifully made", "a joy from start to finish", "wonderful", "sharp and funny", "unforgettable", "brilliant", "charming"],
        Bad = ["dull", "a tedious mess", "painful to sit through", "awful", "lifeless and boring", "forgettable", "clumsy", "a waste of time"];

    private string Reviews()
    {
        var lines = new List<string> { "text,label" };
        for (int i = 0; i < 48; i++)
        {
            bool positive = i % 2 == 0;
            var words = positive ? Good : Bad;
            lines.Add($"\"{Subjects[i / 2 % Subjects.Length]} is {words[i / 2 % words.Length]} .\",{(positive ? "pos" : "neg")}");
        }
        var path = _temp.File("reviews.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    private TrainingConfig Config(string data) => Models.Tasks.Resolve(new TrainingConfig { Data = data, Model = "minilm", Epochs = 10, LearningRate = 1e-2, Threads = 2 }
        .WithTaskOptions(new TextClassificationOptions { TestFraction = 0 })).Config;

    [Fact]
    public void Each_text_is_encoded_once_for_every_fold_and_kept_for_the_next_run()
    {
        var config = Config(Reviews());
        var data = (TextClassificationData)new TextClassificationTask().Load(config);
        Assert.Null(data.Tokenizer);
        Assert.Equal([48, 384], data.Train.Inputs.Shape.ToArray());
        int[] train = [.. Enumerable.Range(0, 24)], held = [.. Enumerable.Range(24, 24)];
        var fold = data.Fold(train, held);
        Assert.Same(data.Embeddings, fold.Embeddings);
        Assert.True(fold.Test.Inputs.Equal(data.Train.Inputs.Narrow(0, 24, 24)));
        // One record (a SHA-256 and 384 floats) per text, in a file named by the encoder's fingerprint.
        var cache = SentenceEmbeddings.DefaultCacheFile(data.Embeddings!.Encoder);
        Assert.StartsWith(_temp.File("cache"), cache);
        Assert.Equal(48 * (32 + 4 * 384), new FileInfo(cache).Length);
        // A new run reads the rows back instead of encoding again: the same numbers, and the file does not grow.
        var again = new SentenceEmbeddings(data.Embeddings.Encoder, cache);
        var texts = data.TrainTexts;
        Assert.True(again.Embed(texts).Equal(data.Train.Inputs));
        Assert.Equal(48 * (32 + 4 * 384), new FileInfo(cache).Length);
    }

    [Fact]
    public void A_head_on_minilm_embeddings_beats_chance_and_its_untrained_self_in_cross_validation()
    {
        var config = Config(Reviews());
        var task = new TextClassificationTask();
        var data = (TextClassificationData)task.Load(config);
        var cv = Pipeline.CrossValidate(config, data, folds: 3);
        double trained = cv.Summary["accuracy"].Mean;

        var untrained = Pipeline.CreateModel(task, config, data);
        untrained.Eval();
        Tensor predicted;
        using (new NoGrad()) predicted = untrained.Forward(data.Train.Inputs).ArgMax(1);
        double before = predicted.Eq(data.Train.Targets).To(DType.Float64).Mean().Item();

        Assert.True(trained >= 0.85, $"cross-validated accuracy {trained:P1} (chance: 50 %)");
        Assert.True(trained >= before + 0.2, $"trained {trained:P1}, untrained {before:P1}");
    }

    [Fact]
    public void Minilm_with_the_ngram_bag_packs_both_views_of_a_text_and_adds_their_logits()
    {
        var config = Models.Tasks.Resolve(Config(Reviews()) with { Model = TextClassificationTask.MiniLmFastTextModel }).Config;
        var task = new TextClassificationTask();
        var data = (TextClassificationData)task.Load(config);
        Assert.NotNull(data.Tokenizer);
        var ids = TextClassificationData.Encode(data.Tokenizer!, data.TrainTexts, data.MaxLength);
        var embeddings = data.Embeddings!.Embed(data.TrainTexts);
        // One row per text: the embedding, then the word ids, which come back exactly.
        Assert.Equal([48, 384 + ids.Shape[1]], data.Train.Inputs.Shape.ToArray());
        Assert.True(EmbeddingNgramClassifier.Ids(data.Train.Inputs, 384).Equal(ids));
        Assert.True(data.Train.Inputs.Narrow(1, 0, 384).Equal(embeddings));

        var model = Assert.IsType<EmbeddingNgramClassifier>(Pipeline.CreateModel(task, config, data));
        model.Eval();
        using (new NoGrad())
        {
            var sum = model.Embedding.Forward(embeddings).Add(model.Bag.Forward(ids));
            Assert.True(model.Forward(data.Train.Inputs).AllClose(sum, 1e-6, 1e-6));
        }
        // Each fold fits its own vocabulary and naive-Bayes ratios, and the model learns the reviews.
        var cv = Pipeline.CrossValidate(config, data, folds: 3);
        Assert.True(cv.Summary["accuracy"].Mean >= 0.85, $"cross-validated accuracy {cv.Summary["accuracy"].Mean:P1} (chance: 50 %)");
    }
}
