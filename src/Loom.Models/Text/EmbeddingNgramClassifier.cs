namespace Loom.Models;

/// <summary>
/// A pretrained sentence embedding and a fastText n-gram bag read side by side: logits = head(embedding) + bag(words),
/// one linear model over both (the sum of two linear heads is a linear head on their concatenation). The two see
/// different things: the embedding a sentence's meaning as a general-purpose encoder learnt it, the naive-Bayes
/// weighted bag the words and bigrams that carry polarity in this training set.
/// </summary>
/// <remarks>
/// Inputs are one Float32 tensor [B, D + T]: the embedding, then the word ids as numbers (exact: Float32 holds every
/// integer below 2^24), padded with 0 — a dataset has one input tensor, and this keeps each text's two views in one row.
/// </remarks>
public sealed class EmbeddingNgramClassifier : Module<Tensor, Tensor>
{
    private readonly int _dim;

    public EmbeddingNgramClassifier(int dim, int vocab, int classes, int bagDim, int buckets, double dropout, Tensor? ratios)
    {
        _dim = dim;
        Embedding = RegisterModule("embedding", new EmbeddingClassifier(dim, classes, dropout: dropout));
        Bag = RegisterModule("bag", new NgramBag(vocab, classes, bagDim, buckets, dropout, ratios));
    }

    public EmbeddingClassifier Embedding { get; }

    public NgramBag Bag { get; }

    /// <summary>The packed inputs [B, D + T] of embeddings [B, D] and word ids [B, T].</summary>
    public static Tensor Pack(Tensor embeddings, Tensor ids) => Tensor.Cat([embeddings.To(DType.Float32), ids.To(DType.Float32)], 1);

    /// <summary>The word ids [B, T] (Int64) of packed inputs with embeddings of width <paramref name="dim"/>.</summary>
    public static Tensor Ids(Tensor packed, int dim) => packed.Narrow(1, dim, packed.Shape[1] - dim).To(DType.Int64);

    protected override Tensor ForwardCore(Tensor packed)
    {
        if (packed.Rank != 2 || packed.Shape[1] <= _dim)
            throw new ArgumentException($"embedding + n-gram classifier: inputs must be [B, {_dim} + T] (embeddings, then word ids), got {packed.Shape}");
        return Embedding.Forward(packed.Narrow(1, 0, _dim)).Add(Bag.Forward(Ids(packed, _dim)));
    }
}
