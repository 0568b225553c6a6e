namespace Loom.Models.Tests.Tasks;

/// <summary>
/// A cross-validation fold of a table is standardised with statistics of its own training rows: fitting them once on
/// all training rows and then drawing the folds leaks the held-out rows' mean and spread into training.
/// </summary>
public sealed class CrossValidationFoldTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string _csv;

    public CrossValidationFoldTests() => _csv = TestFiles.TableCsv(_temp.Path);

    public void Dispose() => _temp.Dispose();

    private ClassificationData Table() => (ClassificationData)new ClassificationTask().Load(Models.Tasks.Resolve(new TrainingConfig { Data = _csv }.WithTaskOptions(new ClassificationOptions { Target = "label" })).Config);

    private static (double[] Mean, double[] Std) Statistics(double[] rows, int features)
    {
        int n = rows.Length / features;
        var mean = new double[features];
        var std = new double[features];
        for (int j = 0; j < features; j++)
        {
            for (int i = 0; i < n; i++) mean[j] += rows[i * features + j] / n;
            for (int i = 0; i < n; i++) std[j] += (rows[i * features + j] - mean[j]) * (rows[i * features + j] - mean[j]) / n;
            std[j] = Math.Sqrt(std[j]);
        }
        return (mean, std);
    }

    private static double[] Rows(double[] all, int[] indices, int features) =>
        indices.SelectMany(i => all.AsSpan(i * features, features).ToArray()).ToArray();

    [Fact]
    public void A_fold_is_standardised_with_the_statistics_of_its_training_rows_alone()
    {
        var data = Table();
        const int features = 3;
        // The rows as read from the file: the data's own standardisation undone.
        var raw = data.Standardizer!.Inverse(data.Train.Inputs.To(DType.Float64)).ToArray<double>();
        var fold = new StratifiedKFold(3, seed: 5).Split(data.Train.Targets.ToArray<int>()).First();

        var foldData = data.Fold(fold.Train, fold.Validation);

        var (mean, std) = Statistics(Rows(raw, fold.Train, features), features);
        TensorAssert.Close(mean, foldData.Standardizer!.Mean.ToArray(), atol: 1e-4, rtol: 1e-5, what: "fold mean ");
        TensorAssert.Close(std, foldData.Standardizer.Std.ToArray(), atol: 1e-4, rtol: 1e-5, what: "fold std ");
        // The fold's statistics are not those of all training rows (which the held-out rows are part of).
        Assert.True(Enumerable.Range(0, features).Max(j => Math.Abs(mean[j] - data.Standardizer.Mean[j]) / data.Standardizer.Std[j]) > 0.01,
            "the fold's mean is that of all training rows, so this data cannot tell a leak");

        // Training rows standardised by their own statistics have mean 0 and standard deviation 1 (not so when
        // scaled by all rows' statistics); held-out rows are scaled by the same statistics.
        var (trainMean, trainStd) = Statistics(foldData.Train.Inputs.ToArray<double>(), features);
        TensorAssert.Close(new double[features], trainMean, atol: 1e-5, rtol: 0, what: "standardised training mean ");
        TensorAssert.Close(Enumerable.Repeat(1.0, features).ToArray(), trainStd, atol: 1e-5, rtol: 0, what: "standardised training std ");
        var expected = Rows(raw, fold.Validation, features).Select((v, k) => (v - mean[k % features]) / std[k % features]).ToArray();
        TensorAssert.Close(expected, foldData.Test.Inputs.ToArray<double>(), atol: 1e-4, rtol: 1e-5, what: "held-out rows ");
        Assert.Equal(data.Train.Targets.ToArray<long>().Where((_, i) => fold.Validation.Contains(i)), foldData.Test.Targets.ToArray<long>());
    }

    [Fact]
    public void Cross_validation_trains_each_fold_on_its_own_standardisation()
    {
        var data = Table();
        var config = Models.Tasks.Resolve(new TrainingConfig { Data = _csv, Epochs = 2, BatchSize = 16, Threads = 1, ValidationFraction = 0 }
            .WithTaskOptions(new ClassificationOptions { Target = "label", Hidden = 8 })).Config;

        var result = Pipeline.CrossValidate(config, data, 3);

        // Each fold again by hand, from its own fold data: the same numbers, so the driver standardised per fold too.
        var folds = new StratifiedKFold(3, config.Seed).Split(data.Train.Targets.ToArray<int>()).ToList();
        Assert.Equal(3, result.Folds.Count);
        foreach (var fold in folds)
        {
            var foldData = data.Fold(fold.Train, fold.Validation);
            var setup = Pipeline.Prepare(config, null, data: foldData);
            setup.Trainer.Fit(setup.TrainLoader);
            var eval = setup.Trainer.Evaluate(setup.TestLoader);
            Assert.Equal(eval.Loss, result.Folds[fold.Index].Metrics["loss"]);
            Assert.Equal(eval.Metrics["accuracy"], result.Folds[fold.Index].Metrics["accuracy"]);
        }
    }
}
