namespace Loom.Data.Tests.Transforms;

/// <summary>Word dropout replaces words, never padding or special tokens, at about its rate, reproducibly for a seed.</summary>
public class WordDropoutTests
{
    [Fact]
    public void Words_become_unk_at_about_the_rate_while_padding_and_special_tokens_stay()
    {
        const int unk = 3, firstWord = 4;
        var ids = new long[10_000];
        for (int i = 0; i < ids.Length; i++) ids[i] = i % 10 == 9 ? 0 : i % 10 == 8 ? 2 : 4 + i % 50; // padding, eos, words
        var input = Tensor.FromArray(ids, 100, 100);
        var output = new WordDropout(0.25, unk, firstWord, seed: 7).Apply(input).ToArray<long>();
        int words = 0, dropped = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] < firstWord) Assert.Equal(ids[i], output[i]);
            else
            {
                words++;
                if (output[i] == unk) dropped++;
                else Assert.Equal(ids[i], output[i]);
            }
        }
        // 8,000 words at p = 0.25: 2,000 expected, standard deviation about 39.
        Assert.InRange(dropped, 2000 - 200, 2000 + 200);
        Assert.Equal(output, new WordDropout(0.25, unk, firstWord, seed: 7).Apply(input).ToArray<long>());
        Assert.NotEqual(output, new WordDropout(0.25, unk, firstWord, seed: 8).Apply(input).ToArray<long>());
        Assert.Equal(ids, new WordDropout(0, unk, firstWord).Apply(input).ToArray<long>());
    }
}
