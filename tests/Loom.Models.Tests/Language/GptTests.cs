using Loom.Nn;

namespace Loom.Models.Tests;

public class GptTests
{
    private static Gpt Small() => new(new GptConfig(Vocab: 50, Dim: 32, Layers: 2, Heads: 4, Context: 24));

    [Fact]
    public void Logits_have_batch_time_vocab_shape_and_tie_the_embedding()
    {
        Generator.ManualSeed(1);
        var gpt = Small();
        var logits = gpt.Forward(Tensor.Randint(0, 50, new Shape(3, 7)));
        Assert.Equal(new Shape(3, 7, 50), logits.Shape);
        Assert.DoesNotContain(gpt.NamedParameters(), p => p.Name.Contains("head", StringComparison.Ordinal));
    }

    [Fact]
    public void Decoding_with_the_kv_cache_matches_recomputing_the_prefix()
    {
        Generator.ManualSeed(2);
        var gpt = Small();
        gpt.Eval();
        var prompt = Tensor.Randint(0, 50, new Shape(2, 3));
        var cached = gpt.Generate(prompt, 12, useCache: true);
        var full = gpt.Generate(prompt, 12, useCache: false);
        Assert.Equal(full.ToArray<long>(), cached.ToArray<long>());

        var cache = new GptCache(2);
        var ids = Tensor.Randint(0, 50, new Shape(2, 6));
        var whole = gpt.Forward(ids);
        gpt.Forward(ids.Narrow(1, 0, 4), cache);
        var step = gpt.Forward(ids.Narrow(1, 4, 2), cache);
        TensorAssert.Close(whole.Narrow(1, 4, 2), step, 1e-4, 1e-4);
    }

    [Fact]
    public void Later_tokens_do_not_change_earlier_logits()
    {
        Generator.ManualSeed(3);
        var gpt = Small();
        var a = Tensor.FromArray(new long[] { 1, 2, 3, 4, 5 }, 1, 5);
        var b = Tensor.FromArray(new long[] { 1, 2, 3, 9, 9 }, 1, 5);
        TensorAssert.Close(gpt.Forward(a).Narrow(1, 0, 3), gpt.Forward(b).Narrow(1, 0, 3), 1e-5, 1e-5);
    }

    [Fact]
    public void Learns_to_continue_a_repeating_sequence()
    {
        Generator.ManualSeed(4);
        var gpt = Small();
        var seq = Enumerable.Range(0, 17).Select(i => (long)(i % 5 + 10)).ToArray();
        var x = Tensor.FromArray(seq[..16], 1, 16);
        var y = Tensor.FromArray(seq[1..], 1, 16);
        var opt = new AdamW(gpt.Parameters(), 3e-3);
        double first = 0, last = 0;
        for (int i = 0; i < 60; i++)
        {
            opt.ZeroGrad();
            var loss = Functional.CrossEntropy(gpt.Forward(x).Reshape(-1, 50), y.Reshape(-1));
            if (i == 0) first = loss.Item();
            last = loss.Item();
            loss.Backward();
            opt.Step();
        }
        Assert.True(last < 0.1 * first, $"loss went from {first} to {last}");
        gpt.Eval();
        var continued = gpt.Generate(Tensor.FromArray(new long[] { 10, 11, 12 }, 1, 3), 5).ToArray<long>();
        Assert.Equal(new long[] { 10, 11, 12, 13, 14, 10, 11, 12 }, continued);
    }

    [Fact]
    public void Too_long_a_sequence_is_refused_with_the_context_length()
    {
        TensorAssert.Throws<ArgumentException>(() => Small().Forward(Tensor.Zeros(new Shape(1, 30), DType.Int64)), "30", "24");
    }
}
