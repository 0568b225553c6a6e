namespace Loom.Train.Tests.Metrics;

/// <summary>ROUGE-1/2/L F-measures against overlaps and subsequences worked out by hand.</summary>
public class RougeTests
{
    [Fact]
    public void Overlaps_and_the_longest_common_subsequence_give_the_hand_worked_F_measures()
    {
        // Unigrams: the×2, cat, on, mat shared (5 of 6 each side). Bigrams: "the cat", "on the", "the mat" (3 of 5 each
        // side). LCS: "the cat on the mat" (5 of 6 each side).
        var s = Rouge.Score("the cat sat on the mat", "the cat is on the mat");
        Assert.Equal(100 * 5.0 / 6, s.Rouge1, 10);
        Assert.Equal(100 * 3.0 / 5, s.Rouge2, 10);
        Assert.Equal(100 * 5.0 / 6, s.RougeL, 10);
    }

    [Fact]
    public void Repeated_words_are_clipped_to_the_other_sides_count()
    {
        // "the" ×3 against one "the": overlap 1, P = 1/3, R = 1/2, F = 2·(1/6)/(5/6) = 0.4; no shared bigram.
        var s = Rouge.Score("the the the", "the cat");
        Assert.Equal(40, s.Rouge1, 10);
        Assert.Equal(0, s.Rouge2);
        Assert.Equal(40, s.RougeL, 10);
    }

    [Fact]
    public void Rouge_L_follows_word_order_where_rouge_1_does_not()
    {
        var s = Rouge.Score("a b c d", "d c b a");
        Assert.Equal(100, s.Rouge1, 10);
        Assert.Equal(0, s.Rouge2);
        Assert.Equal(25, s.RougeL, 10);
        Assert.Equal(3, Rouge.LongestCommonSubsequence(["a", "x", "b", "y", "c"], ["a", "b", "z", "c"]));
    }

    [Fact]
    public void Empty_hypotheses_and_references_score_zero_not_NaN()
    {
        Assert.Equal(new RougeScores(0, 0, 0), Rouge.Score("", "a tool for images"));
        Assert.Equal(new RougeScores(0, 0, 0), Rouge.Score("a tool", ""));
        Assert.Equal(new RougeScores(0, 0, 0), Rouge.Score("...", "a tool"));
        // A one-word hypothesis has no bigram: ROUGE-2 is 0 while ROUGE-1 counts its word.
        var one = Rouge.Score("tool", "a tool");
        Assert.Equal(100 * 2 * 0.5 / 1.5, one.Rouge1, 10);
        Assert.Equal(0, one.Rouge2);
    }

    [Fact]
    public void Words_are_lower_cased_runs_of_letters_and_digits()
    {
        Assert.Equal(["python", "3", "library", "for", "x11", "don", "t"], Rouge.Tokenize("Python 3 library (for X11) — don't"));
        // [python3, library] against [python, 3, library]: one shared word, P = 1/2, R = 1/3, F = 0.4.
        Assert.Equal(40, Rouge.Score("python3 library.", "Python 3 LIBRARY").Rouge1, 10);
    }

    [Fact]
    public void A_corpus_score_is_the_mean_of_the_pairs_F_measures()
    {
        var s = Rouge.Corpus(["the cat", "", "the the the"], ["the cat", "a dog", "the cat"]);
        Assert.Equal((100 + 0 + 40) / 3.0, s.Rouge1, 10);
        Assert.Equal((100 + 0 + 0) / 3.0, s.Rouge2, 10);
        Assert.Throws<ArgumentException>(() => Rouge.Corpus(["a"], ["a", "b"]));
    }
}
