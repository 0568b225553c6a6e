namespace Loom.Data.Tests.Tokenizers;

/// <summary>Merges worked out by hand on small corpora (ids: 4 + byte for bytes, 260 + i for merge i).</summary>
public class BpeTrainerTests
{
    private static int B(char c) => 4 + c;

    [Fact]
    public void Wikipedia_example_aaabdaaabac_merges_aa_then_ab_then_aa_ab()
    {
        // Pairs of "aaabdaaabac": aa ×4, ab ×2, … → Z = aa ("ZabdZabac"); then Za and ab tie at 2 and the pair of
        // smaller ids, (a, b), wins → Y = ab ("ZYdZYac"); then ZY ×2 → X = ZY ("XdXac").
        var bpe = BpeTrainer.Train(["aaabdaaabac"], vocabSize: 263);
        Assert.Equal([(B('a'), B('a')), (B('a'), B('b')), (260, 261)], bpe.Merges);
        Assert.Equal([262, B('d'), 262, B('a'), B('c')], bpe.Encode("aaabdaaabac"));
    }

    [Fact]
    public void Word_counts_decide_the_order_hug_pug_pun_bun_hugs()
    {
        // hug ×10, pug ×5, pun ×12, bun ×4, hugs ×5 (one word per line, so no word has a leading space):
        // "ug" occurs 10 + 5 + 5 = 20 times, "un" 12 + 4 = 16, then "h"+"ug" 15, more than "p"+"un" 12.
        var corpus = string.Concat(Enumerable.Repeat("hug\n", 10).Concat(Enumerable.Repeat("pug\n", 5))
            .Concat(Enumerable.Repeat("pun\n", 12)).Concat(Enumerable.Repeat("bun\n", 4)).Concat(Enumerable.Repeat("hugs\n", 5)));
        var bpe = BpeTrainer.Train([corpus], vocabSize: 263);
        Assert.Equal([(B('u'), B('g')), (B('u'), B('n')), (B('h'), 260)], bpe.Merges);
        Assert.Equal([262, B('s')], bpe.Encode("hugs"));
        Assert.Equal([B('b'), 260], bpe.Encode("bug"));
    }

    [Fact]
    public void Merges_never_cross_pre_token_boundaries_and_stop_below_min_frequency()
    {
        // "a b" twice: "a" and " b" are separate pre-tokens, so the only pair is (' ', 'b'), seen twice; "cd" once.
        var bpe = BpeTrainer.Train(["a b a b cd"], vocabSize: 300);
        Assert.Equal([(B(' '), B('b'))], bpe.Merges);
    }

    [Fact]
    public void Too_small_a_vocabulary_is_refused_with_the_minimum()
    {
        var e = Assert.Throws<ArgumentException>(() => BpeTrainer.Train(["abc"], vocabSize: 100));
        Assert.Contains("260", e.Message);
    }
}
