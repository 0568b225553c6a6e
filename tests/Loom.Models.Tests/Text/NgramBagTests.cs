namespace Loom.Models.Tests.Text;

/// <summary>fastText's bag of distinct words and hashed bigrams, and Wang &amp; Manning's naive-Bayes ratios worked by hand.</summary>
public class NgramBagTests
{
    [Fact]
    public void A_text_is_its_distinct_words_and_bigrams_and_padding_is_no_part_of_it()
    {
        // "a b a b" (ids 5 6 5 6): words 5, 6 and bigrams (5, 6), (6, 5); the repeated (5, 6) counts once.
        var (features, counts) = NgramBag.Features(Tensor.FromArray(new long[] { 5, 6, 5, 6, 0, 0, 7, 0, 0, 0, 0, 0 }, 2, 6), vocab: 10, buckets: 1000);
        var rows = features.ToArray<long>();
        int width = features.Shape[1];
        var first = rows[..width].Where(f => f != 0).ToArray();
        Assert.Equal(4, first.Length);
        Assert.Equal([5L, 6L], first.Where(f => f < 10));
        Assert.Equal(2, first.Count(f => f >= 10 && f < 1010));
        Assert.NotEqual(first[1], first[3]); // (5, 6) and (6, 5) are different bigrams
        // A one-word text has no bigram; an empty mean divides by 1.
        Assert.Equal([7L], rows[width..].Where(f => f != 0));
        Assert.Equal([4.0, 1.0], counts);
    }

    [Fact]
    public void A_texts_logits_do_not_depend_on_the_padding_of_its_batch()
    {
        Generator.ManualSeed(2);
        var ratios = Tensor.FromArray(Enumerable.Range(0, 20 + 64).Select(i => i == 0 ? 0 : 0.5 + i % 3).Select(v => (double)v).ToArray(), 84);
        var model = new NgramBag(20, 3, dim: 6, buckets: 64, ratios: ratios);
        model.Eval();
        var alone = model.Forward(Tensor.FromArray(new long[] { 5, 9, 7 }, 1, 3)).ToArray<float>();
        var padded = model.Forward(Tensor.FromArray(new long[] { 5, 9, 7, 0, 0, 0, 4, 6, 8, 10, 12, 14 }, 2, 6)).ToArray<float>();
        for (int c = 0; c < 3; c++) Assert.Equal(alone[c], padded[c], 1e-6f);
        Assert.NotEqual(padded[0], padded[3]);
    }

    [Fact]
    public void Naive_bayes_ratios_are_log_count_ratios_of_the_texts_holding_each_ngram()
    {
        // Class 1: "5 6", "5"; class 0: "7". With alpha = 1, p counts 1 + texts of class 1 holding the n-gram.
        var ids = Tensor.FromArray(new long[] { 5, 6, 5, 0, 7, 0 }, 3, 2);
        var labels = Tensor.FromArray(new long[] { 1, 1, 0 }, 3);
        const int vocab = 8, buckets = 4;
        var r = NgramBag.NaiveBayesRatios(ids, labels, vocab, buckets).ToArray<double>();
        int bigram = (int)NgramBag.Features(Tensor.FromArray(new long[] { 5, 6 }, 1, 2), vocab, buckets).Features.ToArray<long>()[1];
        var p = Enumerable.Repeat(1.0, vocab + buckets).ToArray();
        var q = Enumerable.Repeat(1.0, vocab + buckets).ToArray();
        p[5] += 2; p[6] += 1; p[bigram] += 1; q[7] += 1;
        double ps = p.Sum(), qs = q.Sum();
        Assert.Equal(0, r[0]);
        foreach (int f in new[] { 5, 6, 7, bigram, 3 })
            Assert.Equal(Math.Abs(Math.Log(p[f] / ps / (q[f] / qs))), r[f], 12);
        Assert.True(r[5] > r[6], "an n-gram in more texts of one class weighs more");
        Assert.Throws<ArgumentException>(() => NgramBag.NaiveBayesRatios(ids, Tensor.FromArray(new long[] { 0, 1, 2 }, 3), vocab, buckets));
    }
}
