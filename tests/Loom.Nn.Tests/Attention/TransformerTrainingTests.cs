namespace Loom.Nn.Tests.Attention;

public class TransformerTrainingTests
{
    /// <summary>
    /// Every position must predict the largest token of its sequence. The feed-forward block sees one position at a
    /// time, so a model without working attention is left with the conditional entropy of the maximum given one token
    /// (≈ 1.0 nat here); the loss falls well below that only if gradients reach the attention weights.
    /// </summary>
    [Fact]
    public void Encoder_learns_a_task_that_needs_attention()
    {
        const int vocab = 8, length = 6, batch = 64, dModel = 16;
        var g = new Generator(5);
        var tokens = Tensor.Randint(0, vocab, new Shape(batch, length), g);
        var targets = tokens.Max(1, keepDim: true).Expand(batch, length).Reshape(-1);
        var embedding = new Embedding(vocab, dModel, generator: g);
        var encoder = new TransformerEncoder(new TransformerEncoderLayer(dModel, 2, 32, dropout: 0, batchFirst: true, generator: g), 1);
        var head = new Linear(dModel, vocab, generator: g);
        var parameters = embedding.Parameters().Concat(encoder.Parameters()).Concat(head.Parameters()).ToList();
        var optimizer = new Adam(parameters, learningRate: 1e-2);

        double Step()
        {
            optimizer.ZeroGrad();
            var logits = head.Forward(encoder.Forward(embedding.Forward(tokens))).Reshape(-1, vocab);
            var loss = Functional.CrossEntropy(logits, targets);
            loss.Backward();
            optimizer.Step();
            return loss.Item();
        }

        double first = Step();
        double last = first;
        for (int i = 0; i < 80; i++) last = Step();
        Assert.True(last < 0.1 * first, $"loss went from {first:F3} to {last:F3}");
    }
}
