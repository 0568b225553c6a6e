using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// A small transformer encoder over words: embeddings scaled by √d plus sinusoidal positions, pre-norm encoder layers
/// whose attention ignores padding, a final LayerNorm, the mean over the text's positions and a linear layer. Token
/// ids [B, T] → logits [B, classes].
/// </summary>
/// <remarks>Sinusoidal rather than learned positions: nothing of the model depends on a maximum length, so a trained model reads texts of any length.</remarks>
public sealed class TransformerClassifier : Module<Tensor, Tensor>, IOnnxExportable
{
    public TransformerClassifier(int vocab, int classes, int dim = 128, int layers = 2, int heads = 4, double dropout = 0.1, Tensor? wordScores = null,
        bool shareLayers = false)
    {
        if (dim % heads != 0 || dim % 2 != 0) throw new ArgumentException($"transformer: the width {dim} must be even and divisible by the {heads} heads");
        Dim = dim;
        Embedding = RegisterModule("embedding", new WordEmbedding(vocab, dim, wordScores));
        Drop = RegisterModule("drop", new Dropout(dropout));
        TransformerEncoderLayer NewLayer() => new(dim, heads, 2 * dim, dropout, "gelu", batchFirst: true, normFirst: true);
        // ALBERT's cross-layer sharing: the same layer in every slot (one set of parameters, encoder.layers.0).
        var shared = shareLayers ? NewLayer() : null;
        Encoder = RegisterModule("encoder", new TransformerEncoder(_ => shared ?? NewLayer(), layers));
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
        return Head.Forward(TextMasks.MeanOverText(x, lengths));
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

    /// <summary>The same graph with the padding, the lengths and the positions computed from the ids at run time.</summary>
    public string ExportOnnx(OnnxExportContext onnx, string ids)
    {
        var padding = TextMasks.Padding(onnx, ids);
        var lengths = TextMasks.Lengths(onnx, ids, padding);
        var x = onnx.Op("Mul", [onnx.Module(Embedding, ids), onnx.Scalar("scale", Math.Sqrt(Dim))]);
        x = onnx.Op("Add", [x, OnnxPositions(onnx, onnx.Dim(ids, 1), Dim)]);
        x = onnx.Encoder(Encoder, x, padding);
        x = onnx.Op("Where", [onnx.Unsqueeze(padding, 2), onnx.Scalar("zero", 0), onnx.Module(Norm, x)]);
        return onnx.Module(Head, TextMasks.MeanOverText(onnx, x, lengths));
    }

    // Positions [T, d] for a run-time T, in double as Positions computes them: pos / 10000^(i/d) for the pair (i, i + 1),
    // and cos as sin shifted by π/2 (one Sin op; the difference is at double rounding, far below float's).
    private static string OnnxPositions(OnnxExportContext onnx, string length, int dim)
    {
        var divisor = new double[dim];
        var phase = new double[dim];
        for (int i = 0; i < dim; i++)
        {
            divisor[i] = Math.Pow(10000, (double)(i - i % 2) / dim);
            phase[i] = i % 2 == 0 ? 0 : Math.PI / 2;
        }
        var positions = onnx.Unsqueeze(onnx.Cast(onnx.Arange(length), DType.Float64), 1);
        var angles = onnx.Op("Div", [positions, onnx.Constant("position_divisor", Tensor.FromArray(divisor, dim))]);
        var sines = onnx.Op("Sin", [onnx.Op("Add", [angles, onnx.Constant("position_phase", Tensor.FromArray(phase, dim))])]);
        return onnx.Cast(sines, DType.Float32);
    }
}
