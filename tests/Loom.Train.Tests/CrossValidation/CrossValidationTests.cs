namespace Loom.Train.Tests.CrossValidation;

public class CrossValidationTests
{
    // 31 samples of three unbalanced classes (16, 9 and 6); input i holds i, so a fold's rows reveal its indices.
    private static readonly long[] Labels = [.. Enumerable.Repeat(0L, 16), .. Enumerable.Repeat(1L, 9), .. Enumerable.Repeat(2L, 6)];

    private static TensorDataset Data() =>
        new(Tensor.FromArray(Enumerable.Range(0, Labels.Length).Select(i => (float)i).ToArray(), Labels.Length, 1), Tensor.FromArray(Labels));

    private static int[] Indices(TensorDataset part) => part.Inputs.ToArray<float>().Select(v => (int)v).ToArray();

    private static List<(int[] Train, int[] Validation)> Folds(int k, bool stratified, ulong seed = 4)
    {
        var seen = new List<(int[], int[])>();
        Train.CrossValidation.Run(Data(), k, stratified, seed, (fold, train, validation) =>
        {
            Assert.Equal(seen.Count, fold);
            // Targets must travel with their inputs.
            Assert.Equal(Indices(validation).Select(i => Labels[i]), validation.Targets.ToArray<long>());
            seen.Add((Indices(train), Indices(validation)));
            return new Dictionary<string, double>();
        });
        return seen;
    }

    [Theory]
    [InlineData(3, true)]
    [InlineData(5, true)]
    [InlineData(3, false)]
    public void Validation_folds_are_disjoint_and_cover_every_sample(int k, bool stratified)
    {
        var folds = Folds(k, stratified);
        Assert.Equal(k, folds.Count);
        var all = folds.SelectMany(f => f.Validation).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, Labels.Length), all);
        foreach (var (train, validation) in folds)
        {
            Assert.Empty(train.Intersect(validation));
            Assert.Equal(Enumerable.Range(0, Labels.Length), train.Concat(validation).Order());
            Assert.InRange(validation.Length, Labels.Length / k, Labels.Length / k + 1);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void Stratified_folds_keep_each_class_within_one_sample_of_its_share(int k)
    {
        foreach (var (_, validation) in Folds(k, stratified: true))
            for (int c = 0; c < 3; c++)
            {
                int total = Labels.Count(l => l == c), inFold = validation.Count(i => Labels[i] == c);
                Assert.InRange(inFold, total / k, (total + k - 1) / k);
            }
    }

    [Fact]
    public void The_seed_fixes_the_folds_and_another_seed_changes_them()
    {
        Assert.Equal(Folds(3, true, seed: 1).Select(f => f.Validation), Folds(3, true, seed: 1).Select(f => f.Validation));
        Assert.NotEqual(Folds(3, true, seed: 1).Select(f => f.Validation), Folds(3, true, seed: 2).Select(f => f.Validation));
    }

    [Fact]
    public void Summary_is_the_mean_and_sample_standard_deviation_across_folds()
    {
        var reported = new List<int>();
        var result = Train.CrossValidation.Run(Data(), 3, stratified: true, seed: 0,
            (fold, _, _) => new Dictionary<string, double> { ["accuracy"] = new[] { 0.8, 0.9, 1.0 }[fold], ["fold"] = fold },
            onFold: f => reported.Add(f.Fold));

        Assert.Equal([0, 1, 2], reported);
        Assert.Equal(0.9, result.Summary["accuracy"].Mean, 12);
        Assert.Equal(0.1, result.Summary["accuracy"].Std, 12);
        Assert.Equal((1.0, 1.0), result.Summary["fold"]);
        Assert.Equal(Labels.Length, result.Folds.Sum(f => f.ValidationCount));
        Assert.All(result.Folds, f => Assert.Equal(Labels.Length, f.TrainCount + f.ValidationCount));
    }

    [Fact]
    public void Too_few_folds_or_samples_are_refused()
    {
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Train.CrossValidation.Run(Data(), 1, true, 0, (_, _, _) => new Dictionary<string, double>()), "at least 2 folds");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Train.CrossValidation.Run(Data(), 40, false, 0, (_, _, _) => new Dictionary<string, double>()), "40 folds of 31 samples");
    }
}
