namespace Loom.Models.Tests.Language;

public class SamplerTests
{
    // Ten tokens with distinct logits: token i has logit i / 2, so the order by likelihood is 9, 8, 7, …
    private static readonly float[] Logits = Enumerable.Range(0, 10).Select(i => i / 2f).ToArray();

    private static int[] Draw(GenerationOptions options, int n, IReadOnlyCollection<int>? previous = null)
    {
        var sampler = new Sampler(options);
        return Enumerable.Range(0, n).Select(_ => sampler.Pick(Logits, previous ?? [])).ToArray();
    }

    [Fact]
    public void The_same_seed_draws_the_same_tokens_and_another_seed_others()
    {
        var options = new GenerationOptions(Temperature: 1.5, Seed: 7);
        Assert.Equal(Draw(options, 200), Draw(options, 200));
        Assert.NotEqual(Draw(options, 200), Draw(options with { Seed = 8 }, 200));
    }

    [Fact]
    public void Top_k_never_draws_outside_the_k_most_likely_and_draws_each_of_them()
    {
        var tokens = Draw(new GenerationOptions(Temperature: 5, TopK: 3, Seed: 1), 3000);
        Assert.Equal([7, 8, 9], tokens.Distinct().Order());
    }

    [Fact]
    public void Top_p_keeps_the_smallest_prefix_reaching_p()
    {
        // Probabilities ∝ e^(i/2): the top three hold 0.394 + 0.239 + 0.145 = 0.778 of the mass, the top two 0.633.
        var tokens = Draw(new GenerationOptions(Temperature: 1, TopP: 0.7, Seed: 2), 3000);
        Assert.Equal([7, 8, 9], tokens.Distinct().Order());
        Assert.Equal([9], Draw(new GenerationOptions(TopP: 0.2, Seed: 2), 200).Distinct());
    }

    [Fact]
    public void Sampling_follows_the_softmax()
    {
        var tokens = Draw(new GenerationOptions(Temperature: 1, Seed: 3), 20000);
        double z = Logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < 10; i++)
        {
            double expected = Math.Exp(Logits[i]) / z, seen = tokens.Count(t => t == i) / 20000.0;
            Assert.True(Math.Abs(seen - expected) < 4 * Math.Sqrt(expected * (1 - expected) / 20000) + 1e-3, $"token {i}: {seen} vs {expected}");
        }
    }

    [Fact]
    public void Greedy_takes_the_arg_max_and_the_repetition_penalty_can_move_it()
    {
        Assert.Equal([9], Draw(new GenerationOptions(Temperature: 0), 5).Distinct());
        // 9's logit 4.5 / 2 = 2.25 is below 8's 4.0.
        Assert.Equal([8], Draw(new GenerationOptions(Temperature: 0, RepetitionPenalty: 2), 5, [9]).Distinct());
    }

    [Fact]
    public void Options_out_of_range_name_the_option()
    {
        Assert.Contains("--top-p", Assert.Throws<ArgumentException>(() => new GenerationOptions(TopP: 1.5).Validate()).Message);
        Assert.Contains("--temperature", Assert.Throws<ArgumentException>(() => new GenerationOptions(Temperature: -1).Validate()).Message);
    }
}
