namespace Loom.Data.Tests.Splits;

public class SplitTests
{
    private static int[] Labels(params int[] countsPerClass) =>
        countsPerClass.SelectMany((n, c) => Enumerable.Repeat(c, n)).ToArray();

    private static void AssertPartition(int n, params int[][] parts)
    {
        var all = parts.SelectMany(p => p).ToArray();
        Assert.Equal(n, all.Length);
        Assert.Equal(Enumerable.Range(0, n), all.Order());
        foreach (var p in parts) Assert.Equal(p.Order(), p); // sorted
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(257)]
    public void Random_split_is_disjoint_covering_and_sized_by_the_fractions(int n)
    {
        var s = Split.Random(n, 0.2, 0.1, seed: 4);
        AssertPartition(n, s.Train, s.Validation, s.Test);
        Assert.Equal((int)Math.Round(n * 0.1, MidpointRounding.AwayFromZero), s.Test.Length);
        Assert.Equal((int)Math.Round(n * 0.2, MidpointRounding.AwayFromZero), s.Validation.Length);
    }

    [Fact]
    public void Random_split_depends_only_on_the_seed()
    {
        Assert.Equal(Split.Random(100, 0.3, seed: 1).Validation, Split.Random(100, 0.3, seed: 1).Validation);
        Assert.NotEqual(Split.Random(100, 0.3, seed: 1).Validation, Split.Random(100, 0.3, seed: 2).Validation);
        Assert.Empty(Split.Random(100, 0.3).Test);
    }

    [Fact]
    public void Stratified_split_keeps_each_class_within_one_of_its_exact_share()
    {
        var labels = Labels(101, 7, 33, 1, 58, 0, 17);
        int n = labels.Length;
        var s = Split.Stratified(labels, 0.15, 0.25, seed: 9);
        AssertPartition(n, s.Train, s.Validation, s.Test);
        Assert.Equal((int)Math.Round(n * 0.25), s.Test.Length);
        Assert.Equal((int)Math.Round(n * 0.15), s.Validation.Length);
        foreach (int c in labels.Distinct())
        {
            int nc = labels.Count(l => l == c);
            Assert.InRange(s.Test.Count(i => labels[i] == c), Math.Floor(nc * 0.25), Math.Ceiling(nc * 0.25));
            Assert.InRange(s.Validation.Count(i => labels[i] == c), Math.Floor(nc * 0.15), Math.Ceiling(nc * 0.15));
        }
    }

    [Fact]
    public void Stratified_split_accepts_label_tensors_and_is_seeded()
    {
        var labels = Labels(20, 30, 50);
        var a = Split.Stratified(Tensor.FromArray(labels.Select(l => (long)l).ToArray()), 0.2, seed: 5);
        var b = Split.Stratified(labels, 0.2, seed: 5);
        Assert.Equal(b.Validation, a.Validation);
        Assert.Equal(new[] { 4, 6, 10 }, Enumerable.Range(0, 3).Select(c => a.Validation.Count(i => labels[i] == c)));
        Assert.NotEqual(a.Validation, Split.Stratified(labels, 0.2, seed: 6).Validation);
    }

    [Fact]
    public void Bad_fractions_and_labels_are_refused()
    {
        TensorAssert.Throws<ArgumentException>(() => Split.Random(10, 0.7, 0.4), "0.7", "0.4");
        TensorAssert.Throws<ArgumentException>(() => Split.Random(10, -0.1), "-0.1");
        TensorAssert.Throws<ArgumentException>(() => Split.Stratified(Tensor.Zeros(3), 0.5), "integers", "float32");
        TensorAssert.Throws<ArgumentException>(() => Split.Stratified(Tensor.Zeros(new Shape(3, 1), DType.Int64), 0.5), "1-D", "[3, 1]");
    }

    [Theory]
    [InlineData(10, 2)]
    [InlineData(17, 5)]
    [InlineData(257, 10)]
    public void KFold_folds_are_disjoint_cover_everything_and_differ_in_size_by_at_most_one(int n, int k)
    {
        var folds = new KFold(k, seed: 3).Split(n).ToList();
        Assert.Equal(k, folds.Count);
        AssertPartition(n, folds.Select(f => f.Validation).ToArray());
        foreach (var f in folds)
        {
            AssertPartition(n, f.Train, f.Validation);
            Assert.InRange(f.Validation.Length, n / k, (n + k - 1) / k);
        }
        Assert.Equal(Enumerable.Range(0, k), folds.Select(f => f.Index));
    }

    [Fact]
    public void KFold_without_shuffle_takes_consecutive_blocks()
    {
        var folds = new KFold(3, shuffle: false).Split(7).ToList();
        Assert.Equal(new[] { 0, 1, 2 }, folds[0].Validation);
        Assert.Equal(new[] { 3, 4 }, folds[1].Validation);
        Assert.Equal(new[] { 5, 6 }, folds[2].Validation);
        Assert.NotEqual(new KFold(3, seed: 1).Split(30).First().Validation, new KFold(3, seed: 2).Split(30).First().Validation);
        TensorAssert.Throws<ArgumentException>(() => new KFold(5).Split(4).ToList(), "4 samples", "5 folds");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new KFold(1), "at least 2");
    }

    [Fact]
    public void StratifiedKFold_gives_each_fold_its_share_of_every_class_within_one()
    {
        var labels = Labels(23, 5, 61, 2, 40);
        int k = 5;
        var folds = new StratifiedKFold(k, seed: 8).Split(labels).ToList();
        AssertPartition(labels.Length, folds.Select(f => f.Validation).ToArray());
        foreach (var f in folds)
        {
            AssertPartition(labels.Length, f.Train, f.Validation);
            Assert.InRange(f.Validation.Length, labels.Length / k, (labels.Length + k - 1) / k);
            foreach (int c in labels.Distinct())
            {
                int nc = labels.Count(l => l == c);
                Assert.InRange(f.Validation.Count(i => labels[i] == c), nc / k, (nc + k - 1) / k);
            }
        }
        var again = new StratifiedKFold(k, seed: 8).Split(Tensor.FromArray(labels)).ToList();
        Assert.Equal(folds.Select(f => f.Validation), again.Select(f => f.Validation));
    }
}
