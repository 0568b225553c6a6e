namespace Loom.Data.Tests.Tokenizers;

/// <summary>GPT-2's ids for fixed strings as OpenAI's encoder gives them (published in tiktoken's and Hugging Face's examples).</summary>
public class Gpt2TokenizerTests
{
    [Theory]
    [InlineData("Hello world", new[] { 15496, 995 })]
    [InlineData("The quick brown fox jumps over the lazy dog", new[] { 464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290 })]
    [InlineData("Hello, world!", new[] { 15496, 11, 995, 0 })]
    public void Ids_equal_the_published_ones(string text, int[] expected) =>
        Assert.Equal(expected, Gpt2Tokenizer.Instance.Encode(text));

    [Fact]
    public void Vocabulary_and_special_tokens_are_gpt2s()
    {
        var t = Gpt2Tokenizer.Instance;
        Assert.Equal(50257, t.VocabSize);
        Assert.Equal(50256, t.Special.Eos);
        Assert.Null(t.Special.Pad);
        Assert.Equal("Hello world", t.Decode([15496, 50256, 995]));
    }

    [Fact]
    public void The_text_endoftext_is_the_document_separator_token()
    {
        Assert.Equal([64, 50256, 65], Gpt2Tokenizer.Instance.Encode("a<|endoftext|>b"));
    }
}
