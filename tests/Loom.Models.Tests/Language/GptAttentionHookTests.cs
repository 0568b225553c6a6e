using Loom.Nn;

namespace Loom.Models.Tests;

/// <summary>
/// GptAttention as an <see cref="IAttentionLayer"/>: the fused path never forms the probabilities, so the hook's are
/// computed beside it; they must be the causal softmax of the block's own query·key products, and the logits must not move.
/// </summary>
public class GptAttentionHookTests
{
    private const int Heads = 4, T = 6;

    private static Gpt Model(GptPositions positions = GptPositions.Learned)
    {
        Generator.ManualSeed(11);
        var gpt = new Gpt(new GptConfig(Vocab: 30, Dim: 16, Layers: 2, Heads: Heads, Context: 16, Positions: positions, DType: DType.Float64));
        // GPT-2 starts its biases at zero; non-zero ones catch a hook fed the projections without them.
        using (new NoGrad())
            foreach (var block in gpt.H) block.Attn.CAttn.Bias!.CopyFrom(Tensor.Randn(block.Attn.CAttn.Bias.Shape, new Generator(12), DType.Float64, std: 0.5));
        gpt.Eval();
        return gpt;
    }

    /// <summary>Block 1's attention probabilities and the input its attention read (ln_1's output) for one forward.</summary>
    private static (Tensor Weights, Tensor AttentionInput, Tensor Logits) Capture(Gpt gpt, Func<Tensor> forward)
    {
        Tensor? weights = null, input = null;
        var block = gpt.H[1];
        var hook = block.Attn.RegisterAttentionHook((_, w) => weights = w.Clone());
        var tap = block.Ln1.RegisterForwardHook((_, _, o) => input = ((Tensor)o).Clone());
        var logits = forward();
        hook.Remove();
        tap.Remove();
        return (weights!, input!, logits);
    }

    [Fact]
    public void Fused_path_hands_hooks_the_causal_softmax_of_the_blocks_own_projections()
    {
        var gpt = Model();
        var ids = Tensor.Randint(0, 30, new Shape(2, T), generator: new Generator(13));
        var (weights, input, _) = Capture(gpt, () => gpt.Forward(ids));
        Assert.Equal(new Shape(2, Heads, T, T), weights.Shape);
        var attn = gpt.H[1].Attn.CAttn;
        var expected = AttentionReference.SelfAttention(input, attn.Weight, attn.Bias, Heads, (_, i, j) => j > i);
        var w = weights.ToArray<double>();
        TensorAssert.Close(expected, w, atol: 1e-12, rtol: 1e-10);
        for (int row = 0; row < 2 * Heads * T; row++)
        {
            Assert.Equal(1.0, w.Skip(row * T).Take(T).Sum(), 12);
            for (int j = row % T + 1; j < T; j++) Assert.Equal(0.0, w[row * T + j]);
        }
    }

    [Fact]
    public void Left_padded_rows_give_padding_keys_zero_weight()
    {
        var gpt = Model();
        var ids = Tensor.Randint(0, 30, new Shape(2, T), generator: new Generator(14));
        int[] padding = [2, 0];
        var (weights, input, _) = Capture(gpt, () => gpt.Forward(ids, new GptCache(2, padding)));
        var attn = gpt.H[1].Attn.CAttn;
        var expected = AttentionReference.SelfAttention(input, attn.Weight, attn.Bias, Heads, (b, i, j) => j > i || j < padding[b]);
        var w = weights.ToArray<double>();
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < Heads; h++)
                for (int i = padding[b]; i < T; i++) // queries on padding see nothing real; no one reads them
                {
                    int row = (b * Heads + h) * T + i;
                    TensorAssert.Close(expected.AsSpan(row * T, T), w.AsSpan(row * T, T), atol: 1e-12, rtol: 1e-10, what: $"row {row}");
                    for (int j = 0; j < padding[b]; j++) Assert.Equal(0.0, w[row * T + j]);
                }
    }

    [Theory]
    [InlineData(GptPositions.Learned)]
    [InlineData(GptPositions.Rotary)]
    public void Capturing_leaves_the_logits_bit_for_bit_unchanged(GptPositions positions)
    {
        var gpt = Model(positions);
        var ids = Tensor.Randint(0, 30, new Shape(2, T), generator: new Generator(15));
        var plain = gpt.Forward(ids).ToArray<double>();
        var (weights, _, logits) = Capture(gpt, () => gpt.Forward(ids));
        Assert.Equal(plain, logits.ToArray<double>());
        var w = weights.ToArray<double>();
        for (int row = 0; row < 2 * Heads * T; row++) Assert.Equal(1.0, w.Skip(row * T).Take(T).Sum(), 12);
    }
}
