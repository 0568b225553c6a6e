using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// Word embeddings that may carry prior knowledge of each word's polarity: E(id) + s(id)·d, where s [V] is a fixed
/// score per vocabulary word (its sentiment-lexicon valence scaled to [−1, 1], 0 for unrated words and padding) and d
/// [dim] a learned direction. A word seen too rarely in training to learn a useful embedding still brings its
/// polarity, which a few thousand training sentences cannot teach for most of the vocabulary.
/// </summary>
public sealed class WordEmbedding : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Tensor? _scores;

    /// <param name="scores">[V] fixed word scores, or null for plain embeddings.</param>
    public WordEmbedding(int vocab, int dim, Tensor? scores = null)
    {
        Embedding = RegisterModule("embedding", new Embedding(vocab, dim, paddingIdx: TextMasks.Pad));
        // Kim's U(−0.25, 0.25) rather than N(0, 1): with Adam's steps of about the learning rate, embeddings of unit
        // scale hardly move in a few hundred steps, and the model then memorises through its filters instead.
        using (new Loom.Autograd.NoGrad())
        {
            Init.Uniform(Embedding.Weight, -0.25, 0.25);
            Init.Zeros(Embedding.Weight.Select(0, TextMasks.Pad));
        }
        if (scores is not null)
        {
            if (scores.Rank != 1 || scores.Shape[0] != vocab) throw new ArgumentException($"word scores must be [{vocab}], got {scores.Shape}");
            // Persistent: the scores belong to the trained model, so a saved run predicts with the scores it trained with.
            _scores = RegisterBuffer("scores", scores.To(DType.Float32).Reshape(vocab, 1));
            Direction = RegisterParameter("direction", new Parameter(Init.Normal(Tensor.Zeros(1, dim))));
        }
    }

    public Embedding Embedding { get; }

    /// <summary>The learned direction the word scores move embeddings along; null without scores.</summary>
    public Parameter? Direction { get; }

    public int Dim => Embedding.EmbeddingDim;

    protected override Tensor ForwardCore(Tensor ids)
    {
        var x = Embedding.Forward(ids);
        if (Direction is null || _scores is null) return x;
        var scores = Functional.Embedding(ids, _scores); // [B, T, 1]
        return x.Add(scores.Mul(Direction));
    }

    public string ExportOnnx(OnnxExportContext onnx, string ids)
    {
        var x = onnx.Module(Embedding, ids);
        if (Direction is null || _scores is null) return x;
        return onnx.Op("Add", [x, onnx.Op("Mul", [onnx.Op("Gather", [onnx.Parameter(_scores), ids]), onnx.Parameter(Direction)])]);
    }
}
