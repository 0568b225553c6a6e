namespace Loom.Models;

/// <summary>
/// Kim's (2014) convolutional sentence classifier: word embeddings, parallel 1-D convolutions over windows of 3, 4 and
/// 5 words, ReLU, max over time, dropout and a linear layer. Token ids [B, T] → logits [B, classes].
/// </summary>
/// <remarks>
/// Max over time takes exactly the windows that start at a word of the text (those near its end run into zero padding,
/// as in Kim's zero-padded sentences), so how much padding a batch carries does not change a text's score.
/// </remarks>
public sealed class TextCnn : Module<Tensor, Tensor>
{
    public TextCnn(int vocab, int classes, int embeddingDim = 128, int filters = 100, int[]? widths = null, double dropout = 0.5, Tensor? wordScores = null)
    {
        Widths = widths ?? [3, 4, 5];
        Embedding = RegisterModule("embedding", new WordEmbedding(vocab, embeddingDim, wordScores));
        Convs = RegisterModule("convs", new ModuleList<Conv1d>(Widths.Select(w => new Conv1d(embeddingDim, filters, w))));
        Drop = RegisterModule("drop", new Dropout(dropout));
        Head = RegisterModule("head", new Linear(filters * Widths.Count, classes));
    }

    public IReadOnlyList<int> Widths { get; }
    public WordEmbedding Embedding { get; }
    public ModuleList<Conv1d> Convs { get; }
    public Dropout Drop { get; }
    public Linear Head { get; }

    protected override Tensor ForwardCore(Tensor ids)
    {
        TextMasks.CheckIds(ids, "textcnn");
        // Every window that starts at a word fits, however the batch is padded: a window may run into padding.
        ids = TextMasks.AtLeast(ids, ids.Shape[1] + Widths.Max() - 1);
        int t = ids.Shape[1];
        var padding = TextMasks.Padding(ids);
        var x = Embedding.Forward(ids).Transpose(1, 2); // [B, E, T]
        var pooled = new List<Tensor>(Convs.Count);
        for (int i = 0; i < Convs.Count; i++)
        {
            var y = Convs[i].Forward(x).Relu(); // [B, F, T − w + 1]
            var outside = padding.Narrow(1, 0, t - Widths[i] + 1).Unsqueeze(1);
            // ReLU outputs are ≥ 0, so zero at windows starting in the padding never wins the max over a real window.
            pooled.Add(y.MaskedFill(outside, 0).Max(2));
        }
        return Head.Forward(Drop.Forward(Tensor.Cat(pooled, 1)));
    }
}
