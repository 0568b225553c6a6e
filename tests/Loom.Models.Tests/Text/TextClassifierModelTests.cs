using Loom.Nn;

namespace Loom.Models.Tests.Text;

/// <summary>The text models read only each text's own words: padding a batch carries changes no text's logits.</summary>
public class TextClassifierModelTests
{
    private static Module<Tensor, Tensor> Create(string model, int vocab, Tensor? scores)
    {
        Generator.ManualSeed(3);
        Module<Tensor, Tensor> m = model switch
        {
            "textcnn" => new TextCnn(vocab, 3, embeddingDim: 16, filters: 8, wordScores: scores),
            "bilstm" => new BiLstmClassifier(vocab, 3, embeddingDim: 16, hidden: 8, wordScores: scores),
            _ => new TransformerClassifier(vocab, 3, dim: 16, layers: 2, heads: 4, wordScores: scores),
        };
        m.Eval();
        return m;
    }

    [Theory]
    [InlineData("textcnn")]
    [InlineData("bilstm")]
    [InlineData("transformer")]
    public void A_texts_logits_do_not_depend_on_the_padding_of_its_batch(string model)
    {
        var scores = Tensor.FromArray(Enumerable.Range(0, 20).Select(i => i < 4 ? 0.0 : (i % 5 - 2) / 2.0).ToArray(), 20);
        var m = Create(model, 20, scores);
        var alone = m.Forward(Tensor.FromArray(new long[] { 5, 9, 7 }, 1, 3)).ToArray<float>();
        // The same text padded to 9 positions beside a longer one.
        var batch = Tensor.FromArray(new long[] { 5, 9, 7, 0, 0, 0, 0, 0, 0, 4, 6, 8, 10, 12, 14, 16, 18, 19 }, 2, 9);
        var padded = m.Forward(batch).ToArray<float>();
        for (int c = 0; c < 3; c++) Assert.Equal(alone[c], padded[c], 1e-5f);
        // The longer text does see its words: it scores differently.
        Assert.NotEqual(padded[0], padded[3]);
    }

    [Fact]
    public void Word_scores_move_embeddings_along_a_learned_direction_and_are_saved_with_the_model()
    {
        var scores = Tensor.FromArray(new double[] { 0, 0, 0, 0, 0.5, -1 }, 6);
        Generator.ManualSeed(1);
        var embedding = new WordEmbedding(6, 4, scores);
        var ids = Tensor.FromArray(new long[] { 4, 5, 0 }, 1, 3);
        var x = embedding.Forward(ids).ToArray<float>();
        var e = embedding.Embedding.Weight.ToArray<float>();
        var d = embedding.Direction!.ToArray<float>();
        for (int j = 0; j < 4; j++)
        {
            Assert.Equal(e[4 * 4 + j] + 0.5f * d[j], x[j], 1e-6f);
            Assert.Equal(e[5 * 4 + j] - d[j], x[4 + j], 1e-6f);
            Assert.Equal(0f, x[8 + j]); // padding: a zero embedding and a zero score
        }
        Assert.Contains(embedding.StateDict(), kv => kv.Key == "scores");
    }
}
