namespace Loom.Models.Tests.Tasks;

/// <summary>
/// <see cref="TrainingConfig.SplitSeed"/> and <see cref="TrainingConfig.Fold"/>: the validation hold-out follows the
/// split seed, not the training seed; the folds of `--fold k/K` are disjoint and cover the training part; and
/// <see cref="Pipeline.Prepare"/> trains and validates on exactly the rows <see cref="Pipeline.TrainingRows"/> names.
/// </summary>
public sealed class TrainingRowsTests
{
    // 103 samples of 3 classes (uneven: 50, 33, 20), each sample's single feature its own index, so rows are recognisable.
    private static ClassificationData Data()
    {
        const int n = 103;
        var labels = Enumerable.Range(0, n).Select(i => i < 50 ? 0L : i < 83 ? 1L : 2L).ToArray();
        var train = new TensorDataset(Tensor.FromArray(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), [n, 1]), Tensor.FromArray(labels, [n]));
        var test = new TensorDataset(Tensor.Zeros([3, 1]), Tensor.FromArray(new long[] { 0, 1, 2 }, [3]));
        return new ClassificationData(train, test, [1], ["a", "b", "c"], "103 hand-made rows");
    }

    private static TrainingConfig Config(ulong seed, ulong? splitSeed = null, TrainingFold? fold = null) =>
        new() { Seed = seed, SplitSeed = splitSeed, Fold = fold, ValidationFraction = 0.2 };

    [Fact]
    public void The_split_seed_not_the_training_seed_chooses_the_validation_rows()
    {
        var data = Data();
        var (train1, validation1) = Pipeline.TrainingRows(Config(1, splitSeed: 9), data);
        var (train2, validation2) = Pipeline.TrainingRows(Config(2, splitSeed: 9), data);
        Assert.Equal(validation1, validation2);
        Assert.Equal(train1, train2);
        Assert.Equal(21, validation1.Length);
        Assert.Empty(train1.Intersect(validation1));
        Assert.Equal(103, train1.Union(validation1).Count());
        // Without a split seed the training seed splits, as before split seeds existed: seeds 1 and 2 hold out other rows.
        Assert.NotEqual(Pipeline.TrainingRows(Config(1), data).Validation, Pipeline.TrainingRows(Config(2), data).Validation);
        Assert.Equal(Pipeline.TrainingRows(Config(9), data).Validation, validation1);
    }

    [Fact]
    public void The_folds_are_disjoint_cover_the_training_part_and_keep_the_validation_rows()
    {
        var data = Data();
        var (part, validation) = Pipeline.TrainingRows(Config(1, splitSeed: 4), data);
        var leftOut = new List<int[]>();
        for (int k = 1; k <= 4; k++)
        {
            // Another training seed per fold, as an ensemble's members have: the folds follow the split seed alone.
            var (train, foldValidation) = Pipeline.TrainingRows(Config((ulong)(10 + k), splitSeed: 4, fold: new TrainingFold(k, 4)), data);
            Assert.Equal(validation, foldValidation);
            Assert.Subset(part.ToHashSet(), train.ToHashSet());
            Assert.True(train.SequenceEqual(train.Order()), "training rows ascending");
            leftOut.Add(part.Except(train).ToArray());
        }
        // Each training-part row is left out by exactly one fold; the folds' sizes differ by at most one.
        Assert.Equal(part.Order(), leftOut.SelectMany(f => f).Order());
        Assert.True(leftOut.Max(f => f.Length) - leftOut.Min(f => f.Length) <= 1);
        // Stratified: each fold leaves out ⌊n_c/4⌋ or ⌈n_c/4⌉ of each class c.
        var labels = data.Train.Targets.ToArray<long>();
        foreach (var c in new long[] { 0, 1, 2 })
        {
            int inPart = part.Count(i => labels[i] == c);
            Assert.All(leftOut, f => Assert.InRange(f.Count(i => labels[i] == c), inPart / 4, (inPart + 3) / 4));
        }
    }

    [Fact]
    public void Prepare_trains_and_validates_on_exactly_those_rows()
    {
        var data = Data();
        var config = Models.Tasks.Resolve(Config(3, splitSeed: 7, fold: new TrainingFold(2, 3)) with { Data = "digits", Model = "mlp", Threads = 1 }).Config;
        var setup = Pipeline.Prepare(config, folder: null, data: data);
        var (train, validation) = Pipeline.TrainingRows(config, data);
        static int[] Rows(IDataset<Sample> rows) => Enumerable.Range(0, rows.Count).Select(i => (int)rows[i].Input.ToArray<float>()[0]).ToArray();
        Assert.Equal(train, Rows(setup.TrainLoader.Dataset));
        Assert.Equal(validation, Rows(setup.ValidationLoader!.Dataset));
        Assert.True(train.Length is > 50 and < 60, $"{train.Length} training rows: 2/3 of the 82 left after validation");
    }

    [Fact]
    public void Bad_folds_are_refused_and_the_split_survives_config_json()
    {
        Assert.Throws<ArgumentException>(() => (Config(1) with { Fold = new TrainingFold(3, 2) }).Validate());
        Assert.Throws<ArgumentException>(() => (Config(1) with { Fold = new TrainingFold(1, 1) }).Validate());
        var json = (Config(1, splitSeed: 5, fold: new TrainingFold(2, 5)) with { Model = "mlp" }).ToJson();
        var read = TrainingConfig.FromJson(json, "config.json");
        Assert.Equal(5UL, read.SplitSeed);
        Assert.Equal(new TrainingFold(2, 5), read.Fold);
    }
}
