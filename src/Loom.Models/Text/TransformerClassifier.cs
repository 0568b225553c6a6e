using Loom.Nn;

namespace Loom.Models;

/// <summary>
/// A small transformer encoder over words: embeddings scaled by √d plus sinusoidal positions, pre-norm encoder layers
/// whose attention ignores padding, a final LayerNorm, the mean over the text's positions and a linear layer. Token
/// ids [B, T] → logits [B, classes].
/// </summary>
/// <remarks>Sinusoidal rather than learned positions: nothing of the model depends on a maximum length, so a trained model reads texts of any length.</remarks>
public sealed class TransformerClassifier : Module<Tensor, Tensor>
{
    public TransformerClassifier(int vocab, int classes, int dim = 128, int layers = 2, int heads = 4, double dropout = 0.1, Tensor? wordScores = null)
    {
        if (dim % heads != 0 || dim % 2 != 0) throw new ArgumentException($"transformer: the width {dim} must be even and divisible by the {heads} heads");
        Dim = dim;
        Embedding = RegisterModule("embedding", new WordEmbedding(vocab, dim, wordScores));
        Drop = RegisterModule("drop", new Dropout(dropout));
        Encoder = RegisterModule("encoder", new TransformerEncoder(
            _ => new TransformerEncoderLayer(dim, heads, 2 * dim, dropout, "gelu", batchFirst: true, normFirst: true), layers));
        Norm = RegisterModule("norm", new LayerNorm(dim));
        Head = RegisterModule("head", new Linear(dim, classes));
    }

    public int Dim { get; }
    public WordEmbedding Embedding { get; }
    public Dropout Drop { get; }
    public TransformerEncoder Encoder { get; }
    public LayerNorm Norm { get; }
    public Linear Head { get; }

    protected override Tensor ForwardCore(Tensor ids)
    {
        TextMasks.CheckIds(ids, "transformer");
        var lengths = TextMasks.Lengths(ids);
        var padding = TextMasks.Padding(ids);
        var x = Embedding.Forward(ids).Mul(Math.Sqrt(Dim)).Add(Positions(ids.Shape[1], Dim).To(DType.Float32));
        x = Encoder.Forward(Drop.Forward(x), null, padding);
        x = Norm.Forward(x).MaskedFill(padding.Unsqueeze(2), 0);
        return Head.Forward(x.Sum(1).Div(TextMasks.LengthColumn(lengths, x.DType)));
    }

    /// <summary>Vaswani et al.'s sinusoidal positions [T, d]: sin at even and cos at odd features, wavelengths from 2π to 10000·2π.</summary>
    public static Tensor Positions(int length, int dim)
    {
        var p = new double[length * dim];
        for (int pos = 0; pos < length; pos++)
            for (int i = 0; i < dim; i += 2)
            {
                double angle = pos / Math.Pow(10000, (double)i / dim);
                p[pos * dim + i] = Math.Sin(angle);
                p[pos * dim + i + 1] = Math.Cos(angle);
            }
        return Tensor.FromArray(p, length, dim);
    }
}
