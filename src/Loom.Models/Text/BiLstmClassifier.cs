using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// Word embeddings, a bidirectional LSTM that reads each text only up to its length, then max- and mean-pooling of
/// its outputs over the text's positions, dropout and a linear layer. Token ids [B, T] → logits [B, classes].
/// </summary>
/// <remarks>
/// The lengths make the backward direction start at each text's last word rather than in the padding, so a text gets
/// the same logits whatever batch it is padded in.
/// </remarks>
public sealed class BiLstmClassifier : Module<Tensor, Tensor>, IOnnxExportable
{
    public BiLstmClassifier(int vocab, int classes, int embeddingDim = 128, int hidden = 128, double dropout = 0.5, Tensor? wordScores = null)
    {
        Embedding = RegisterModule("embedding", new WordEmbedding(vocab, embeddingDim, wordScores));
        Lstm = RegisterModule("lstm", new LSTM(embeddingDim, hidden, batchFirst: true, bidirectional: true));
        Drop = RegisterModule("drop", new Dropout(dropout));
        Head = RegisterModule("head", new Linear(4 * hidden, classes));
    }

    public WordEmbedding Embedding { get; }
    public LSTM Lstm { get; }
    public Dropout Drop { get; }
    public Linear Head { get; }

    protected override Tensor ForwardCore(Tensor ids)
    {
        TextMasks.CheckIds(ids, "bilstm");
        var lengths = TextMasks.Lengths(ids);
        var x = Drop.Forward(Embedding.Forward(ids));
        var (output, _) = Lstm.Forward(x, null, lengths); // [B, T, 2H], zero beyond each length
        var padding = TextMasks.Padding(ids).Unsqueeze(2);
        var max = output.MaskedFill(padding, double.NegativeInfinity).Max(1);
        return Head.Forward(Drop.Forward(Tensor.Cat([max, TextMasks.MeanOverText(output, lengths)], 1)));
    }

    /// <summary>The same graph with the lengths and the padding computed from the ids at run time (ONNX's LSTM takes the lengths).</summary>
    public string ExportOnnx(OnnxExportContext onnx, string ids)
    {
        var padding = TextMasks.Padding(onnx, ids);
        var lengths = TextMasks.Lengths(onnx, ids, padding);
        var output = onnx.Recurrent(Lstm, onnx.Module(Embedding, ids), onnx.Cast(lengths, DType.Int32));
        var max = onnx.Op("ReduceMax", [onnx.Op("Where", [onnx.Unsqueeze(padding, 2), onnx.Scalar("masked", double.NegativeInfinity), output])],
            OnnxExportContext.Ints("axes", 1), OnnxExportContext.Int("keepdims", 0));
        return onnx.Module(Head, onnx.Op("Concat", [max, TextMasks.MeanOverText(onnx, output, lengths)], OnnxExportContext.Int("axis", 1)));
    }
}
