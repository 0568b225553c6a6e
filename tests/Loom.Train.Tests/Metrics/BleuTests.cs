namespace Loom.Train.Tests.Metrics;

/// <summary>Corpus BLEU against counts worked out by hand (sacreBLEU's defaults: 13a tokens, exp smoothing, 4-grams).</summary>
public class BleuTests
{
    [Fact]
    public void Tokenisation_13a_splits_punctuation_but_not_numbers_apostrophes_or_inner_hyphens()
    {
        Assert.Equal(["Hello", ",", "world", "!"], Bleu.Tokenize13a("Hello, world!"));
        Assert.Equal(["It", "costs", "3.50", ",", "it's", "well-known", "."], Bleu.Tokenize13a("It costs 3.50, it's well-known."));
        Assert.Equal(["1990", "-", "2000", "(", "\"", "A", "&", "B", "\"", ")"], Bleu.Tokenize13a("1990-2000 (&quot;A &amp; B&quot;)"));
        Assert.Equal(["a", "1,000", "b"], Bleu.Tokenize13a("a 1,000 b"));
    }

    [Fact]
    public void A_hypothesis_equal_to_its_reference_scores_100_and_an_empty_one_0()
    {
        Assert.Equal(100, Bleu.Corpus(["the cat sat on the mat ."], ["the cat sat on the mat ."]), 10);
        Assert.Equal(0, Bleu.Corpus([""], ["the cat sat on the mat"]));
        var empty = Bleu.Statistics([""], ["the cat sat on the mat"]);
        Assert.Equal((0L, 6L, 0.0), (empty.HypothesisLength, empty.ReferenceLength, empty.BrevityPenalty));
    }

    [Fact]
    public void Repeated_words_are_clipped_to_the_references_count_and_missing_orders_are_smoothed()
    {
        // 7 × "the" against "the cat is on the mat": unigrams 2 of 7 (clipped to the reference's two "the"), then
        // no match among 6 bigrams, 5 trigrams, 4 four-grams: exp smoothing gives 1/(2·6), 1/(4·5), 1/(8·4). c = 7 > r = 6.
        var s = Bleu.Statistics(["the the the the the the the"], ["the cat is on the mat"]);
        Assert.Equal([2L, 0, 0, 0], s.Matches);
        Assert.Equal([7L, 6, 5, 4], s.Totals);
        double expected = 100 * Math.Exp((Math.Log(2.0 / 7) + Math.Log(1.0 / 12) + Math.Log(1.0 / 20) + Math.Log(1.0 / 32)) / 4);
        Assert.Equal(expected, s.Score, 10);
    }

    [Fact]
    public void Short_hypotheses_pay_the_brevity_penalty_and_score_0_when_too_short_for_four_grams()
    {
        // "the cat sat on" matches every n-gram it has, but 4 words against 6: BP = exp(1 − 6/4).
        Assert.Equal(100 * Math.Exp(1 - 6.0 / 4), Bleu.Corpus(["the cat sat on"], ["the cat sat on the mat"]), 10);
        // Three words have no 4-gram at all: sacreBLEU scores 0.
        Assert.Equal(0, Bleu.Corpus(["the cat sat"], ["the cat sat on the mat"]));
        Assert.Equal(0, Bleu.Corpus(["the cat", "a dog"], ["the cat sat on the mat", "a dog ran far away"]));
    }

    [Fact]
    public void Counts_are_pooled_over_the_corpus_before_the_geometric_mean()
    {
        // Sentence 1: "a b c d" vs "a b c d": 4/4, 3/3, 2/2, 1/1. Sentence 2: "a x c y" vs "a b c d": 2/4, 0/3, 0/2, 0/1.
        // Pooled: 6/8, 3/6, 2/4, 1/2; lengths 8 and 8.
        var s = Bleu.Statistics(["a b c d", "a x c y"], ["a b c d", "a b c d"]);
        Assert.Equal([6L, 3, 2, 1], s.Matches);
        Assert.Equal([8L, 6, 4, 2], s.Totals);
        double expected = 100 * Math.Pow(6.0 / 8 * 3.0 / 6 * 2.0 / 4 * 1.0 / 2, 0.25);
        Assert.Equal(expected, s.Score, 10);
        Assert.Throws<ArgumentException>(() => Bleu.Corpus(["a"], []));
    }
}
