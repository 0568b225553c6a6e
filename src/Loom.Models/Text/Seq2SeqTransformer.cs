using Loom.Autograd;
using Loom.Nn;

namespace Loom.Models;

/// <summary>
/// An encoder–decoder transformer over words with plain attention (Vaswani et al. 2017, pre-norm): one embedding table
/// for source, target and output (tied: the output layer is the embedding transposed, so a word learned on either side
/// helps the other), sinusoidal positions, padding masked on both sides. Its input packs a batch as one id tensor
/// [B, S + T]: the first <see cref="SourceLength"/> columns the source (padded with 0), the rest the decoder's input
/// (bos then the target, padded with 0); the output is logits [B, T, V] for the next target word at each position.
/// </summary>
/// <remarks>
/// Source and decoder input travel in one tensor because the shared trainer feeds a model one input per sample.
/// </remarks>
public sealed class Seq2SeqTransformer : Module<Tensor, Tensor>
{
    public Seq2SeqTransformer(int vocab, int sourceLength, int dim = 256, int encoderLayers = 3, int decoderLayers = 3, int heads = 4, double dropout = 0.1)
    {
        if (dim % heads != 0 || dim % 2 != 0) throw new ArgumentException($"seq2seq: the width {dim} must be even and divisible by the {heads} heads");
        if (sourceLength < 1) throw new ArgumentException($"seq2seq: the source length must be at least 1, got {sourceLength}");
        (Vocab, SourceLength, Dim) = (vocab, sourceLength, dim);
        Embedding = RegisterModule("embedding", new Embedding(vocab, dim));
        // Tied output: logits are h·Eᵀ, so the embeddings start small (N(0, d^-½)) to give logits of unit scale.
        Init.Normal(Embedding.Weight, 0, 1 / Math.Sqrt(dim));
        Drop = RegisterModule("drop", new Dropout(dropout));
        Encoder = RegisterModule("encoder", new TransformerEncoder(
            _ => new TransformerEncoderLayer(dim, heads, 4 * dim, dropout, "gelu", batchFirst: true, normFirst: true), encoderLayers, new LayerNorm(dim)));
        Decoder = RegisterModule("decoder", new TransformerDecoder(
            _ => new TransformerDecoderLayer(dim, heads, 4 * dim, dropout, "gelu", batchFirst: true, normFirst: true), decoderLayers, new LayerNorm(dim)));
    }

    public int Vocab { get; }

    /// <summary>Source words per sample: the width of the source part of the input.</summary>
    public int SourceLength { get; }

    public int Dim { get; }
    public Embedding Embedding { get; }
    public Dropout Drop { get; }
    public TransformerEncoder Encoder { get; }
    public TransformerDecoder Decoder { get; }

    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 2 || input.Shape[1] <= SourceLength)
            throw new ArgumentException($"seq2seq: input must be [B, {SourceLength} source + T target ids], got {input.Shape}");
        TextMasks.CheckIds(input, "seq2seq");
        var source = input.Narrow(1, 0, SourceLength);
        var target = input.Narrow(1, SourceLength, input.Shape[1] - SourceLength);
        var (memory, sourcePadding) = Encode(source);
        return Decode(target, memory, sourcePadding, start: 0, cache: null);
    }

    /// <summary>The encoder's output [B, S, d] for source ids [B, S], and the source padding [B, S] (true at padding).</summary>
    public (Tensor Memory, Tensor Padding) Encode(Tensor source)
    {
        // Every source holds at least one word (the data encodes an empty text as unk), so no attention row is all padding.
        var padding = TextMasks.Padding(source);
        return (Encoder.Forward(Embed(source, 0), null, padding), padding);
    }

    /// <summary>
    /// Logits [B, T, V] for target ids [B, T] at positions <paramref name="start"/>…: the whole decoder input in training,
    /// or only the newest word with <paramref name="cache"/> while decoding.
    /// </summary>
    public Tensor Decode(Tensor target, Tensor memory, Tensor sourcePadding, int start, KeyValueCache? cache)
    {
        var x = Embed(target, start);
        // Target padding only follows the target's words, which causal attention never looks ahead to, so it needs no mask.
        x = Decoder.Forward(x, memory, memoryKeyPaddingMask: sourcePadding, tgtIsCausal: true, cache: cache);
        return Functional.Linear(x, Embedding.Weight);
    }

    private Tensor Embed(Tensor ids, int start) =>
        Drop.Forward(Embedding.Forward(ids).Mul(Math.Sqrt(Dim)).Add(TransformerClassifier.Positions(start + ids.Shape[1], Dim).Narrow(0, start, ids.Shape[1]).To(DType.Float32)));

    /// <summary>
    /// Greedy decoding: for each source [B, S], the most likely word at each step after <paramref name="bos"/>, until
    /// <paramref name="eos"/> or <paramref name="maxLength"/> words; the words without bos and eos. Eos is not chosen
    /// before <paramref name="minLength"/> words, and the <paramref name="banned"/> ids (bos, padding, unk) never are.
    /// </summary>
    public List<int[]> Greedy(Tensor source, int bos, int eos, int maxLength, int minLength = 0, IReadOnlyCollection<int>? banned = null)
    {
        using var noGrad = new NoGrad();
        bool training = Training;
        Eval();
        try
        {
            int b = source.Shape[0];
            var (memory, padding) = Encode(source);
            var cache = new KeyValueCache();
            var words = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
            var done = new bool[b];
            var next = Tensor.FromArray(Enumerable.Repeat((long)bos, b).ToArray(), b, 1);
            for (int step = 0; step < maxLength && done.Contains(false); step++)
            {
                var logits = Decode(next, memory, padding, step, cache);
                var scores = logits.Narrow(1, 0, 1).Reshape(b, Vocab).To(DType.Float64).ToArray<double>();
                var best = new long[b];
                for (int i = 0; i < b; i++)
                {
                    int top = -1;
                    for (int v = 0; v < Vocab; v++)
                    {
                        if ((v == eos && step < minLength) || (banned?.Contains(v) ?? false)) continue;
                        if (top < 0 || scores[i * Vocab + v] > scores[i * Vocab + top]) top = v;
                    }
                    best[i] = top;
                }
                for (int i = 0; i < b; i++)
                {
                    if (done[i]) continue;
                    if (best[i] == eos) done[i] = true;
                    else words[i].Add((int)best[i]);
                }
                next = Tensor.FromArray(best, b, 1);
            }
            return [.. words.Select(w => w.ToArray())];
        }
        finally
        {
            if (training) Train();
        }
    }
}
