using System.Globalization;

namespace Loom.Explain.Tests;

/// <summary>One of scikit-learn's bundled data files (Debian python3-sklearn).</summary>
public sealed class SklearnDataFactAttribute(string file) : InstalledDataFactAttribute(SklearnData(file))
{
    public const string Folder = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    public static InstalledData SklearnData(string file) => new($"scikit-learn's {file}", "apt-get install python3-sklearn", Path.Combine(Folder, file));
}

public sealed class PermutationImportanceTests
{
    /// <summary>A small MLP trained full-batch with Adam: enough to fit these tables, in well under a second.</summary>
    internal static Sequential Train(Tensor x, Tensor y, int classes, int epochs, ulong seed)
    {
        var generator = new Generator(seed);
        var model = new Sequential(new Linear(x.Shape[1], 16, generator: generator), new ReLU(), new Linear(16, classes, generator: generator));
        var optimizer = new Adam(model.Parameters(), learningRate: 0.02);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            optimizer.ZeroGrad();
            Functional.CrossEntropy(model.Forward(x), y).Backward();
            optimizer.Step();
        }
        model.Eval();
        return model;
    }

    [Fact]
    public void A_planted_informative_feature_ranks_first()
    {
        // Six standard-normal features; the class is the sign of feature 4 (plus a little of feature 1), the rest is noise.
        var g = new Generator(1);
        int n = 600;
        var x = Tensor.Randn(new Shape(n, 6), g);
        var score = x.Select(1, 4).Add(x.Select(1, 1).Mul(0.2));
        var y = score.Gt(0).To(DType.Int64);
        var (trainX, testX) = (x.Narrow(0, 0, 400), x.Narrow(0, 400, 200));
        var (trainY, testY) = (y.Narrow(0, 0, 400), y.Narrow(0, 400, 200));
        var model = Train(trainX, trainY, 2, epochs: 150, seed: 2);
        var result = PermutationImportance.Compute(PermutationImportance.Accuracy(model), testX, testY, repeats: 5, seed: 3);
        Assert.True(result.BaselineScore > 0.9, $"held-out accuracy {result.BaselineScore}");
        Assert.Equal(4, result.Ranking[0]);
        Assert.Equal(1, result.Ranking[1]);
        Assert.True(result.Mean[4] > 0.3, $"shuffling the informative feature costs only {result.Mean[4]}");
        foreach (int noise in new[] { 0, 2, 3, 5 })
            Assert.True(Math.Abs(result.Mean[noise]) < 0.05, $"noise feature {noise} drop {result.Mean[noise]}");
        Assert.All(result.Drops, d => Assert.Equal(5, d.Length));
        Assert.True(result.Std[4] > 0, "five different shuffles should not cost exactly the same");
    }

    [Fact]
    public void Statistics_over_repeats_are_mean_and_population_std()
    {
        var result = new PermutationImportanceResult(1, [[0.1, 0.3], [0.5, 0.5], [-0.1, 0.1]]);
        Assert.Equal([0.2, 0.5, 0], result.Mean.Select(v => Math.Round(v, 12)));
        Assert.Equal([0.1, 0, 0.1], result.Std.Select(v => Math.Round(v, 12)));
        Assert.Equal([1, 0, 2], result.Ranking);
    }

    [Fact]
    public void Shuffling_leaves_the_other_columns_and_the_input_alone()
    {
        var x = Tensor.FromArray(new double[] { 1, 10, 2, 20, 3, 30, 4, 40 }, 4, 2);
        var copy = x.Clone();
        var seen = new List<double[]>();
        PermutationImportance.Compute((inputs, _) =>
        {
            seen.Add(inputs.ToArray<double>());
            return 0;
        }, x, Tensor.Zeros(4), repeats: 2, seed: 7);
        TensorAssert.Close(copy, x, atol: 0, rtol: 0);
        Assert.Equal(5, seen.Count); // the baseline, then two shuffles of each feature
        foreach (var (rows, shuffled) in new[] { (seen[1], 0), (seen[2], 0), (seen[3], 1), (seen[4], 1) })
        {
            int other = 1 - shuffled;
            Assert.Equal(Enumerable.Range(0, 4).Select(r => copy.GetDouble(r, other)), Enumerable.Range(0, 4).Select(r => rows[r * 2 + other]));
            Assert.Equal(Enumerable.Range(0, 4).Select(r => copy.GetDouble(r, shuffled)).Order(), Enumerable.Range(0, 4).Select(r => rows[r * 2 + shuffled]).Order());
        }
    }

    /// <summary>scikit-learn's breast_cancer.csv: a header line "569,30,…", then 30 features and the class per row.</summary>
    internal static (Tensor X, Tensor Y) BreastCancer()
    {
        SklearnDataFactAttribute.SklearnData("breast_cancer.csv").Require();
        var lines = File.ReadAllLines(Path.Combine(SklearnDataFactAttribute.Folder, "breast_cancer.csv")).Skip(1).Where(l => l.Length > 0).ToArray();
        var rows = lines.Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var x = Tensor.FromArray(rows.SelectMany(r => r[..30]).Select(v => (float)v).ToArray(), rows.Length, 30);
        var y = Tensor.FromArray(rows.Select(r => (long)r[30]).ToArray());
        return (x, y);
    }

    [SklearnDataFact("breast_cancer.csv")]
    public void On_breast_cancer_the_top_permutation_features_are_those_whose_ablation_costs_most()
    {
        var (x, y) = BreastCancer();
        // A fixed shuffled split: 400 training rows, 169 held out; standardised with the training rows' statistics.
        var order = Tensor.FromArray(new Generator(4).Permutation(x.Shape[0]).Select(i => (long)i).ToArray());
        x = x.IndexSelect(0, order);
        y = y.IndexSelect(0, order);
        var mean = x.Narrow(0, 0, 400).Mean(0, keepDim: true);
        var std = x.Narrow(0, 0, 400).Std(0, keepDim: true);
        x = x.Sub(mean).Div(std);
        var (trainX, testX, trainY, testY) = (x.Narrow(0, 0, 400), x.Narrow(0, 400, 169), y.Narrow(0, 0, 400), y.Narrow(0, 400, 169));
        var model = Train(trainX, trainY, 2, epochs: 200, seed: 5);
        var score = PermutationImportance.NegativeLogLoss(model);
        var permutation = PermutationImportance.Compute(score, testX, testY, repeats: 10, seed: 6);
        var ablation = FeatureAblation.Compute(score, testX, testY, values: new double[30]); // 0 is the training mean
        double accuracy = PermutationImportance.Accuracy(model)(testX, testY);
        Assert.True(accuracy > 0.93, $"held-out accuracy {accuracy}");
        var topAblation = Enumerable.Range(0, 30).OrderByDescending(f => ablation[f]).Take(5).ToHashSet();
        var topPermutation = permutation.Ranking.Take(5).ToList();
        int shared = topPermutation.Count(topAblation.Contains);
        Assert.True(shared >= 3, $"top 5 by permutation {string.Join(",", topPermutation)}, by ablation {string.Join(",", topAblation)}");
        Assert.Contains(permutation.Ranking[0], topAblation);
        double rho = RankCorrelation.Spearman(permutation.Mean, ablation);
        Assert.True(rho > 0.6, $"Spearman correlation of permutation and ablation importances {rho:F3}");
    }
}

public sealed class RankCorrelationTests
{
    [Fact]
    public void Spearman_is_one_for_any_increasing_map_and_uses_mean_ranks_for_ties()
    {
        double[] a = [3, 1, 4, 1.5, 9];
        Assert.Equal(1, RankCorrelation.Spearman(a, a.Select(v => Math.Exp(v)).ToArray()), 12);
        Assert.Equal(-1, RankCorrelation.Spearman(a, a.Select(v => -v * v * v).ToArray()), 12);
        Assert.Equal([1.5, 1.5, 3, 4.5, 4.5], RankCorrelation.Ranks([2, 2, 5, 7, 7]));
        // Ranks (1, 2, 3) against (1.5, 1.5, 3): Pearson of the ranks, worked by hand = √3/2.
        Assert.Equal(Math.Sqrt(3) / 2, RankCorrelation.Spearman([1, 2, 3], [0, 0, 1]), 12);
    }
}
