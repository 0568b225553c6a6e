namespace Loom.Models.Tests.Language;

/// <summary>The key/value cache and batched, padded decoding give the logits and tokens of recomputing without them.</summary>
public class GptDecodingTests
{
    private static Gpt Model(GptPositions positions, ulong seed = 2)
    {
        Generator.ManualSeed(seed);
        var gpt = new Gpt(GptConfig.Preset("gpt-tiny", vocab: 40, positions: positions) with { Context = 32 });
        // Larger than GPT-2's 0.02 so that the logits differ enough for greedy choices to be decided by real margins.
        using (new NoGrad())
            foreach (var p in gpt.Parameters().Where(p => p.Rank == 2)) p.MulInPlace(10);
        gpt.Eval();
        return gpt;
    }

    [Theory]
    [InlineData(GptPositions.Learned)]
    [InlineData(GptPositions.Rotary)]
    public void Cached_logits_equal_uncached_logits_step_by_step(GptPositions positions)
    {
        var gpt = Model(positions);
        using var noGrad = new NoGrad();
        var ids = Tensor.Randint(0, 40, new Shape(3, 20), new Generator(4));
        var whole = gpt.Forward(ids);
        var cache = new GptCache(gpt.Config.Layers);
        var parts = new List<Tensor> { gpt.Forward(ids.Narrow(1, 0, 7), cache) };
        for (int t = 7; t < 20; t++) parts.Add(gpt.Forward(ids.Narrow(1, t, 1), cache));
        TensorAssert.Close(whole, Tensor.Cat(parts, 1), 1e-5, 1e-5);
    }

    [Theory]
    [InlineData(GptPositions.Learned)]
    [InlineData(GptPositions.Rotary)]
    public void Left_padded_batches_generate_what_each_prompt_generates_alone(GptPositions positions)
    {
        var gpt = Model(positions);
        int[][] prompts = [[5, 9, 13, 2, 7, 30], [11], [3, 3, 8]];
        var options = new GenerationOptions(MaxTokens: 12, Temperature: 0);
        var batched = gpt.Generate(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(gpt.Generate([prompts[i]], options)[0], batched[i]);
        // And alone, the cached greedy decoding is the uncached one.
        var uncached = gpt.Generate(Tensor.FromArray(prompts[0].Select(x => (long)x).ToArray(), 1, 6), 12, useCache: false);
        Assert.Equal(uncached.ToArray<long>()[6..].Select(x => (int)x), batched[0]);
    }

    [Fact]
    public void Decoding_past_the_context_goes_on_from_the_last_half()
    {
        var gpt = Model(GptPositions.Learned);
        var tokens = gpt.Generate([[1, 2, 3]], new GenerationOptions(MaxTokens: 70, Temperature: 0))[0];
        Assert.Equal(70, tokens.Length);
        Assert.All(tokens, t => Assert.InRange(t, 0, 39));
    }

    [Fact]
    public void A_stop_token_ends_its_row_only()
    {
        var gpt = Model(GptPositions.Learned);
        int[][] prompts = [[5, 9, 13], [11, 4]];
        var free = gpt.Generate(prompts, new GenerationOptions(MaxTokens: 8, Temperature: 0));
        int stop = free[0][2];
        var stopped = gpt.Generate(prompts, new GenerationOptions(MaxTokens: 8, Temperature: 0, StopToken: stop));
        Assert.Equal(free[0][..free[0].ToList().IndexOf(stop)], stopped[0]);
        int cut = free[1].ToList().IndexOf(stop);
        Assert.Equal(cut < 0 ? free[1] : free[1][..cut], stopped[1]);
    }
}
