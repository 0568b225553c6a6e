namespace Loom.Data.Tests.Tokenizers;

public class WordTokenizerTests
{
    [Fact]
    public void Text_splits_into_lower_case_words_with_inner_apostrophes_and_hyphens_and_single_punctuation()
    {
        Assert.Equal(["it", "isn't", "jean-claude's", "best", ",", "is", "it", "?", "!", "21st"],
            WordTokenizer.Split("It isn't Jean-Claude's BEST, is it?! 21st"));
    }

    [Fact]
    public void The_vocabulary_lists_frequent_words_first_drops_rare_ones_and_encodes_the_rest_as_unk()
    {
        var tokenizer = WordTokenizer.Fit(["b a b c", "a b"], minCount: 2);
        Assert.Equal(["b", "a"], tokenizer.Words); // b three times, a twice, c once
        int unk = SpecialTokens.Reserved.Unk!.Value;
        Assert.Equal([SpecialTokens.ReservedCount, SpecialTokens.ReservedCount + 1, unk], tokenizer.Encode("B a c"));
        Assert.Equal("b a <unk>", tokenizer.Decode(tokenizer.Encode("b a c")));
    }

    [Fact]
    public void A_saved_vocabulary_loads_back_with_the_same_ids()
    {
        using var dir = new TempDir();
        var tokenizer = WordTokenizer.Fit(["the film , the plot", "a plot"]);
        tokenizer.Save(dir.File("tokenizer.json"));
        var loaded = Assert.IsType<WordTokenizer>(Tokenizer.Load(dir.File("tokenizer.json")));
        Assert.Equal(tokenizer.Words, loaded.Words);
        Assert.Equal(tokenizer.Encode("the plot , a film !"), loaded.Encode("the plot , a film !"));
    }

    [Fact]
    public void A_vocabulary_entry_that_is_not_one_word_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new WordTokenizer(["two words"]));
        Assert.Throws<ArgumentException>(() => new WordTokenizer(["same", "same"]));
    }
}
